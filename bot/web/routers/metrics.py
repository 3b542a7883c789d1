"""``/metrics``: the web service's Prometheus metrics, for tokens with the scope ``metrics:read`` only.

Prometheus sends the token with ``authorization: {type: Bearer, credentials_file: ...}`` in its scrape config
(docs/deployment.md, "Monitoring"). Not in the OpenAPI description: it is for the monitoring, not for clients.
"""

from __future__ import annotations

from typing import Dict, Optional

from fastapi import APIRouter, Depends, Response

from bot.metrics import CONTENT_TYPE, render, set_index_source, set_outbox_source
from bot.outbox.depth import outbox_depths
from bot.retrieval.store import IndexStore
from bot.web.deps import require_scope
from bot.web.state import WebServices

router = APIRouter(tags=["metrics"], include_in_schema=False)


@router.get("/metrics", dependencies=[Depends(require_scope("metrics:read"))], response_class=Response)
def read_metrics() -> Response:
    """Every metric of this process in the Prometheus text format (401 without a token, 403 without the scope)."""
    return Response(render(), media_type=CONTENT_TYPE)


def register_sources(services: WebServices) -> None:
    """Report the ticket database's outboxes and each agency's published index version at every scrape."""
    index_dir = services.settings.index_dir

    def versions() -> Dict[str, Optional[str]]:
        return {agency.key: IndexStore(agency.index_dir(index_dir)).live_version() for agency in services.agencies}

    set_outbox_source("web", lambda: outbox_depths(services.engine))
    set_index_source("web", versions)
