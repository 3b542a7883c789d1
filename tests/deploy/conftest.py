"""The deployment of tests/deploy (:mod:`tests.helpers.deployment`): a data host, two app hosts, nginx in front.

The harness itself lives in :mod:`tests.helpers.deployment` (``bench/deploy_load.py`` uses it too); its names are
re-exported here for the test modules.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.helpers.deployment import (  # noqa: F401  (re-exported for the test modules)
    ACTIONS,
    API_TOKEN,
    BASE,
    INTERNAL_TOKEN,
    NGINX_PORT,
    PG,
    RASA,
    REDIS,
    WEB,
    WORKER,
    Deployment,
    app_env,
    build_home,
    deploy,
    missing_tools,
    ready_url,
    run_postgres,
    run_redis,
    start_nginx,
    start_postgres,
)
from tests.helpers.netns import Network


def check_tools() -> None:
    """Fail (not skip) with what to install when the deployment cannot be built here."""
    reason = missing_tools()
    if reason is not None:
        pytest.fail(reason)


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    check_tools()
    with Network() as net, deploy(BASE, net) as running:
        yield running
