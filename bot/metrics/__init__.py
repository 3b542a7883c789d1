"""Prometheus metrics of every Auskunft service: definitions, scrape-time gauges and exposition.

Plain module: no FastAPI, Starlette, Rasa or rasa-sdk here, so the decision code, the outbox and the limits can
count without depending on a web framework. The web service serves the metrics at ``/metrics`` (bearer token), the
action server and each Rasa process on a port of their own on ``AUSKUNFT_INTERNAL_HOST`` (see docs/deployment.md,
"Monitoring").

Labels never carry personal data or citizen text: every label value passes :func:`safe_label` (a short
identifier from a fixed alphabet, anything else becomes ``other``), and request latencies are labelled with the
route *template* (``/api/tickets/{case_number}``), never the path a client sent.
"""

from bot.metrics.definitions import (
    DECISIONS,
    HANDOFF_RESULTS,
    HANDOFFS,
    LIMIT_REFUSALS,
    REQUEST_LATENCY,
    RETRIEVAL_LATENCY,
    TICKETS_CREATED,
    count_decision,
    count_handoff_result,
    count_refusal,
    count_ticket_created,
    observe_request,
    observe_retrieval,
    safe_label,
    status_class,
)
from bot.metrics.exposition import CONTENT_TYPE, render, start_server_once
from bot.metrics.gauges import IndexVersions, OutboxDepth, set_index_source, set_outbox_source

__all__ = [
    "CONTENT_TYPE",
    "DECISIONS",
    "HANDOFFS",
    "HANDOFF_RESULTS",
    "LIMIT_REFUSALS",
    "REQUEST_LATENCY",
    "RETRIEVAL_LATENCY",
    "TICKETS_CREATED",
    "IndexVersions",
    "OutboxDepth",
    "count_decision",
    "count_handoff_result",
    "count_refusal",
    "count_ticket_created",
    "observe_request",
    "observe_retrieval",
    "render",
    "safe_label",
    "set_index_source",
    "set_outbox_source",
    "start_server_once",
    "status_class",
]
