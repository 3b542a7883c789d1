"""A ticket's stored transcript as the staff see it: what the citizen saw, not the bot's internal names.

Bot lines are rendered like the widget renders them (:func:`bot.web.markdown.render_markdown`), with the buttons
they offered and which one the citizen pressed; a button click shows the button's label instead of
``[button: feedback_not_helpful]``; the bot's decision and score become a hover text. Plain functions over the
stored JSON (older tickets lack ``options``/``choice``/``decision``: their clicks are named from a fixed table).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence

from bot.web.markdown import render_markdown

ROLE_LABELS = {"citizen": "Bürgerin/Bürger", "bot": "Assistent", "agent": "Sachbearbeitung"}
BUTTON = re.compile(r"^\[button: ([A-Za-z0-9_]{1,60})\]$")
# What the widget showed for a button when the line does not record its title (tickets from older releases).
BUTTON_LABELS = {"feedback_helpful": "Ja, hat geholfen", "feedback_not_helpful": "Nein, hat nicht geholfen",
                 "choose_faq": "einen der Vorschläge", "none_of_these": "Nichts davon",
                 "ask_human": "Mit einem Menschen sprechen", "affirm": "Ja", "deny": "Nein",
                 "skip_email": "Ohne E-Mail weiter"}
DECISION_LABELS = {"answer": "Antwort aus der FAQ", "clarify": "Rückfrage mit Vorschlägen",
                   "rephrase": "Nicht verstanden, Bitte um andere Formulierung", "smalltalk": "Smalltalk",
                   "handoff": "Weiterleitung an die Sachbearbeitung", "human": "Nachricht an die Sachbearbeitung"}


def parse_at(value: Any) -> Optional[datetime]:
    """A transcript line's ISO time stamp, if it has a valid one."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def decision_hint(line: Mapping[str, Any]) -> str:
    """The hover text for a bot line: its decision, the answered entry and the score (German decimal comma)."""
    decision = line.get("decision")
    if not isinstance(decision, str):
        return ""
    parts = [f"Entscheidung: {DECISION_LABELS.get(decision, decision)}"]
    if isinstance(line.get("faq_id"), str):
        parts.append(f"Eintrag {line['faq_id']}")
    score = line.get("score")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        parts.append(f"Ähnlichkeit {score:.2f}".replace(".", ","))
    return " · ".join(parts)


def _choice(line: Mapping[str, Any]) -> Optional[str]:
    """The label of the button a citizen line stands for, None for typed text."""
    match = BUTTON.match(str(line.get("text") or ""))
    if match is None:
        return None
    if isinstance(line.get("choice"), str) and line["choice"]:
        return str(line["choice"])
    return BUTTON_LABELS.get(match.group(1), match.group(1).replace("_", " "))


def view_lines(transcript: Sequence[Any]) -> List[Dict[str, Any]]:
    """The lines ready for the template.

    Args:
        transcript: ``Ticket.transcript`` (a list of dicts; anything else in it is skipped).

    Returns:
        One dict per line: ``role`` (German label), ``role_key``, ``at``, ``html`` (bot and agent lines, safe
        markup) or ``text`` (the citizen's words, escaped by the template), ``choice`` (True for a button click),
        ``options`` (``{"title", "chosen"}`` of the buttons a bot line offered) and ``hint`` (decision and score).
    """
    lines = [line for line in transcript or [] if isinstance(line, dict)]
    out: List[Dict[str, Any]] = []
    for i, line in enumerate(lines):
        role = str(line.get("role"))
        view: Dict[str, Any] = {"role": ROLE_LABELS.get(role, role), "role_key": role, "at": parse_at(line.get("at")),
                                "html": None, "text": str(line.get("text") or ""), "choice": False, "options": [],
                                "hint": ""}
        if role == "citizen":
            label = _choice(line)
            if label is not None:
                view.update(text=label, choice=True)
        else:
            view["html"] = render_markdown(view["text"])
            view["hint"] = decision_hint(line)
            following = lines[i + 1] if i + 1 < len(lines) else {}
            chosen = _choice(following) if following.get("role") == "citizen" else None
            offered = line.get("options")
            options: List[Any] = offered if isinstance(offered, list) else []
            view["options"] = [{"title": title, "chosen": title == chosen}
                               for title in options if isinstance(title, str)]
        out.append(view)
    return out

