"""End-to-end evaluation: every labelled message through the running services, as the widget sends it.

Each message opens a new conversation on ``/api/chat`` (the web service → Rasa's NLU, rules and the
action server), the bot's decision is read from its reply, and the conversation is deleted again.
The outcomes have the same shape as :func:`bot.evaluation.runner.decide_all`'s, so the same figures
apply, plus the reply language against the message's labelled language and, per message, whether
the live bot and the offline evaluation agree.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import httpx

from bot.decision import ANSWER, CLARIFY, HANDOFF, REPHRASE, SMALLTALK, Decision
from bot.evaluation.dataset import Example
from bot.evaluation.metrics import Outcome
from bot.retrieval.index import Candidate

CONVERSATION_HEADER = "X-Auskunft-Conversation"


@dataclass(frozen=True)
class LiveOutcome:
    """What the running bot did with one message.

    Attributes:
        outcome: the decision, in the offline evaluation's form (no ranking: live replies show none).
        reply_lang: the language the bot replied in (its payload's ``lang``), None if it did not say.
        raw: the bot's messages, for a report of disagreements.
    """

    outcome: Outcome
    reply_lang: Optional[str]
    raw: List[Dict[str, Any]]


def decision_of(messages: Sequence[Dict[str, Any]]) -> tuple[Decision, Optional[str]]:
    """The decision and reply language in the bot's messages (``custom`` payloads, first decisive one).

    Raises:
        ValueError: the reply carries no decision (the message names what came back).
    """
    for message in messages:
        custom = message.get("custom")
        if not isinstance(custom, dict) or "decision" not in custom:
            continue
        kind, lang = custom["decision"], custom.get("lang")
        score = float(custom.get("score") or 0.0)
        if kind == ANSWER:
            return Decision(ANSWER, "live", score, faq_id=str(custom.get("faq_id"))), lang
        if kind == CLARIFY:
            choices = tuple(Candidate(str(c.get("faq_id")), float(c.get("score") or 0.0), str(c.get("title", "")),
                                      "", str(c.get("lang", "")), "") for c in custom.get("candidates") or [])
            return Decision(CLARIFY, "live", max((c.score for c in choices), default=0.0), choices=choices), lang
        if kind == HANDOFF:
            return Decision(HANDOFF, str(custom.get("reason") or "live"), 0.0), lang
        if kind in (REPHRASE, SMALLTALK):
            return Decision(kind, str(custom.get("reason") or custom.get("intent") or "live"), 0.0), lang
    raise ValueError(f"the bot's reply holds no decision: {list(messages)!r:.300}")


def ask(client: httpx.Client, example: Example, page_lang: str, agency: Optional[str]) -> LiveOutcome:
    """Send one message as a new conversation, read the decision, delete the conversation."""
    sender = secrets.token_urlsafe(18)
    body: Dict[str, Any] = {"sender": sender, "message": example.text, "lang": page_lang}
    if agency:
        body["agency"] = agency
    response = client.post("/api/chat", json=body)
    response.raise_for_status()
    messages = response.json()
    decision, lang = decision_of(messages)
    client.delete("/api/chat/conversation", headers={CONVERSATION_HEADER: sender})
    return LiveOutcome(Outcome((), decision.confidence, decision, example.expected), lang, messages)


def ask_all(base_url: str, examples: Sequence[Example], page_lang: str = "de", agency: Optional[str] = None,
            workers: int = 4, progress: Optional[Callable[[int, int], None]] = None,
            timeout: float = 60.0) -> List[LiveOutcome]:
    """:func:`ask` for every example, ``workers`` conversations at a time; results in the examples' order."""
    results: List[Optional[LiveOutcome]] = [None] * len(examples)
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout) as client, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(ask, client, example, page_lang, agency): i for i, example in enumerate(examples)}
        for done, future in enumerate(futures, start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(examples))
    return [r for r in results if r is not None]


def same_outcome(a: Decision, b: Decision) -> bool:
    """Whether two decisions are the same for the citizen: the action, and the entry or the choices offered."""
    if a.action != b.action:
        return False
    if a.action == ANSWER:
        return a.faq_id == b.faq_id
    if a.action == CLARIFY:
        return [c.faq_id for c in a.choices] == [c.faq_id for c in b.choices]
    return True


def live_figures(live: Sequence[LiveOutcome], offline: Sequence[Outcome], examples: Sequence[Example]
                 ) -> Dict[str, object]:
    """Agreement with the offline evaluation, and the reply language against the labels."""
    agree = [same_outcome(lv.outcome.decision, off.decision) for lv, off in zip(live, offline, strict=True)]
    labelled = [(lv.reply_lang, e.lang) for lv, e in zip(live, examples, strict=True) if e.lang in ("de", "en")]
    disagreements = [{"text": e.text, "live": _describe(lv.outcome.decision), "offline": _describe(off.decision)}
                     for lv, off, e, same in zip(live, offline, examples, agree, strict=True) if not same]
    return {
        "agreement_with_offline": sum(agree) / len(agree) if agree else float("nan"),
        "language_mismatch_rate": (sum(reply != want for reply, want in labelled) / len(labelled)
                                   if labelled else float("nan")),
        "disagreements": disagreements,
    }


def _describe(decision: Decision) -> str:
    if decision.action == ANSWER:
        return f"answer {decision.faq_id}"
    if decision.action == CLARIFY:
        return "clarify " + ",".join(c.faq_id for c in decision.choices)
    return f"{decision.action} {decision.reason}"
