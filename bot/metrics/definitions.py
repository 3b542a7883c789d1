"""The counters and histograms, and the helpers that keep their label values safe.

Every metric lives in prometheus-client's default registry (with the process metrics it brings), once per
process. Names follow Prometheus conventions: ``auskunft_`` prefix, base units, ``_total`` for counters.
"""

from __future__ import annotations

import re
from typing import Optional

from prometheus_client import Counter, Histogram

_SAFE = re.compile(r"^[a-z0-9][a-z0-9_:.-]{0,47}$")
OTHER = "other"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    "auskunft_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template, method and status class.",
    ["route", "method", "status"], buckets=LATENCY_BUCKETS)
DECISIONS = Counter(
    "auskunft_decisions_total",
    "Decisions of action_answer_faq, by action (answer, clarify, rephrase, smalltalk, handoff) and reason.",
    ["action", "reason"])
HANDOFFS = Counter(
    "auskunft_handoffs_total",
    "Handoffs to a person the bot started, by reason (low_confidence, asked_for_human, not_helpful, ...).",
    ["reason"])
HANDOFF_RESULTS = Counter(
    "auskunft_handoff_results_total",
    "How handoffs ended in the action server: created, queued (ticket API down), refused (budget), declined.",
    ["result"])
TICKETS_CREATED = Counter(
    "auskunft_tickets_created_total",
    "Tickets the ticket API created (repeated deliveries of the same case not counted), by handoff reason.",
    ["reason"])
RETRIEVAL_LATENCY = Histogram(
    "auskunft_retrieval_seconds",
    "Time the FAQ retriever in Rasa's NLU pipeline took for one message, by who embedded it (web or rasa).",
    ["embedded_by"], buckets=LATENCY_BUCKETS)
LIMIT_REFUSALS = Counter(
    "auskunft_limit_refusals_total",
    "Requests refused with 429 because a limit was reached, by limit (chat, poll, lookup, handoff, login).",
    ["limit"])

CHAT_SHED = Counter(
    "auskunft_chat_shed_total",
    "Chat turns the web service did not forward to Rasa: queue_full and waited (503, the admission cap of "
    "bot/web/admission.py), client_gone (the client had closed the connection while the turn waited).",
    ["reason"])


def safe_label(value: Optional[object]) -> str:
    """``value`` as a label value if it is a short identifier (``[a-z0-9_:.-]``, at most 48 characters), else ``other``.

    Keeps free text (a citizen's words, an e-mail address, a case number in a path) out of the metrics even if a
    caller passes it by mistake: anything with capitals, spaces, ``@`` or ``/`` is not an identifier.

    Args:
        value: the intended label value (an enum value such as a decision reason).

    Returns:
        The value, or ``"other"``; ``"none"`` for None or an empty string.
    """
    if value is None or value == "":
        return "none"
    text = str(value)
    return text if _SAFE.match(text) else OTHER


def status_class(code: int) -> str:
    """The status class of an HTTP status code: ``2xx``, ``4xx``, ... (``other`` outside 100-599)."""
    return f"{code // 100}xx" if 100 <= code <= 599 else OTHER


def observe_request(route: str, method: str, code: int, seconds: float) -> None:
    """Record one request's latency.

    Args:
        route: the route template (never the raw path), ``unmatched`` for requests no route took.
        method: the HTTP method.
        code: the response status code.
        seconds: from the request's arrival to the end of its response.
    """
    method = method.upper() if method.isalpha() and len(method) <= 10 else OTHER
    REQUEST_LATENCY.labels(route, method, status_class(code)).observe(max(0.0, seconds))


def observe_retrieval(embedded_by: Optional[str], seconds: float) -> None:
    """Record one message's retrieval time in Rasa (``embedded_by``: ``web``, ``rasa`` or None: no index)."""
    RETRIEVAL_LATENCY.labels(safe_label(embedded_by)).observe(max(0.0, seconds))


def count_decision(action: str, reason: Optional[str]) -> None:
    """Count one decision of ``action_answer_faq`` (a handoff also counts in :data:`HANDOFFS`)."""
    DECISIONS.labels(safe_label(action), safe_label(reason)).inc()
    if action == "handoff":
        HANDOFFS.labels(safe_label(reason)).inc()


def count_handoff_result(result: str) -> None:
    """Count how one handoff ended (``created``, ``queued``, ``refused``, ``declined``)."""
    HANDOFF_RESULTS.labels(safe_label(result)).inc()


def count_ticket_created(reason: Optional[str]) -> None:
    """Count one ticket the ticket API created."""
    TICKETS_CREATED.labels(safe_label(reason)).inc()


def count_refusal(limit: str) -> None:
    """Count one request refused because ``limit`` was reached."""
    LIMIT_REFUSALS.labels(safe_label(limit)).inc()


def count_shed(reason: str) -> None:
    """Count one chat turn not forwarded (``queue_full``, ``waited``, ``client_gone``)."""
    CHAT_SHED.labels(safe_label(reason)).inc()
