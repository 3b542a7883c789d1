"""The attack suite runs against the real services, started once per session by the end-to-end fixture."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.e2e import conftest as e2e
from tests.e2e.conftest import Running
from tests.security.helpers import add_account, signed_in

services = e2e.services  # the real services ('auskunft run'), the same fixture as tests/e2e


@pytest.fixture(scope="session")
def manager(services: Running) -> Iterator[httpx.Client]:
    """A logged-in manager who is also an editor (sees every department and the editor pages)."""
    add_account(services, "angriff-chefin", "--manager", "--editor")
    with signed_in(services, "angriff-chefin") as client:
        yield client


