"""The citizen's needs in a conversation: each question asked, and whether the bot resolved it.

Kept in the ``needs`` slot (the newest :data:`MAX_NEEDS`), so the handoff names the question a
person should answer (the latest unresolved one, with the others listed), never "I want a person"
or a button payload. Plain functions over JSON-ready dicts: no Rasa here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

MAX_NEEDS = 5
OPEN = "open"  # asked, not answered (clarify, handoff)
ANSWERED = "answered"
NOT_HELPFUL = "not_helpful"  # answered, and the citizen said it did not help
REJECTED = "rejected"  # none of the offered choices fit
UNRESOLVED = frozenset({OPEN, NOT_HELPFUL, REJECTED})

Need = Dict[str, Any]


def current(needs: Optional[Sequence[Any]]) -> List[Need]:
    """A copy of the slot's needs (anything malformed dropped)."""
    return [dict(n) for n in (needs or []) if isinstance(n, dict) and n.get("question")]


def asked(needs: Optional[Sequence[Any]], question: str, candidates: List[Dict[str, Any]],
          index_version: Optional[str], answered_with: Optional[str]) -> List[Need]:
    """The needs after a typed question; ``answered_with`` is the entry answered, None if it was not."""
    need: Need = {"question": question, "candidates": candidates[:5], "index_version": index_version,
                  "state": ANSWERED if answered_with else OPEN, "faq_id": answered_with}
    return [*current(needs), need][-MAX_NEEDS:]


def _latest(needs: List[Need], states: frozenset) -> Optional[Need]:
    return next((n for n in reversed(needs) if n.get("state") in states), None)


def chosen(needs: Optional[Sequence[Any]], faq_id: str) -> List[Need]:
    """The needs after the citizen picked ``faq_id`` from a clarify step: the latest open need is answered."""
    result = current(needs)
    need = _latest(result, frozenset({OPEN, REJECTED}))
    if need is not None:
        need.update(state=ANSWERED, faq_id=faq_id)
    return result


def marked(needs: Optional[Sequence[Any]], state: str) -> List[Need]:
    """The needs after "not helpful" (the latest answered need) or "none of these" (the latest open one)."""
    result = current(needs)
    source = frozenset({ANSWERED}) if state == NOT_HELPFUL else frozenset({OPEN})
    need = _latest(result, source)
    if need is not None:
        need["state"] = state
    return result


@dataclass(frozen=True)
class HandoffSubject:
    """What a ticket is about: the question, the candidates the bot considered, and other open questions."""

    question: Optional[str]
    candidates: List[Dict[str, Any]]
    index_version: Optional[str]
    other_needs: List[str]


def handoff_subject(needs: Optional[Sequence[Any]]) -> HandoffSubject:
    """The latest unresolved need (else the latest question at all) and the other unresolved ones."""
    every = current(needs)
    unresolved = [n for n in every if n.get("state") in UNRESOLVED]
    main = unresolved[-1] if unresolved else (every[-1] if every else None)
    if main is None:
        return HandoffSubject(None, [], None, [])
    others = [str(n["question"]) for n in unresolved if n is not main]
    return HandoffSubject(str(main["question"]), list(main.get("candidates") or []),
                          main.get("index_version"), others)
