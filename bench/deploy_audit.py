"""The audit of ``bench/deploy_load.py``: what the citizens sent and were told against PostgreSQL afterwards.

Every conversation's user and bot events in Rasa's tracker store and every ticket in the ticket database, counted
as lost, duplicated, reordered or unexpected (see :func:`audit`).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence, Tuple

from bench.load_client import Turn, check_events
from bot.channels.payloads import as_words, is_payload
from tests.helpers.deployment import Deployment


def created(replies: Sequence[Sequence[Dict[str, Any]]]) -> bool:
    """Whether the bot said a ticket was created (``custom.step == "created"``) in one of ``replies``."""
    return any((m.get("custom") or {}).get("step") == "created" for reply in replies for m in reply)


def stored(deployment: Deployment, senders: Sequence[str]) -> Tuple[Dict[str, List[Tuple[str, str]]],
                                                                     Dict[str, int]]:
    """Every sender's tracker events (type, text) from PostgreSQL, and the number of tickets per conversation."""
    import sqlalchemy as sa

    events: Dict[str, List[Tuple[str, str]]] = {sender: [] for sender in senders}
    tickets: Dict[str, int] = {}
    for database, query in (("rasa", "SELECT sender_id, type_name, data FROM events WHERE type_name IN "
                                     "('user', 'bot') ORDER BY id"),
                            ("auskunft", "SELECT conversation_id, count(*) FROM tickets GROUP BY conversation_id")):
        engine = sa.create_engine(f"{deployment.pg_url}/{database}")
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text(query)).fetchall()
        finally:
            engine.dispose()
        for row in rows:
            if database == "rasa" and row[0] in events:
                events[row[0]].append((row[1], json.loads(row[2]).get("text") or ""))
            elif database == "auskunft":
                tickets[row[0]] = int(row[1])
    return events, tickets


def audit(deployment: Deployment, sent: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """Sent messages and answers against the stored events, confirmed handoffs against the tickets.

    A button payload the web service did not find offered (its offer came with a reply the citizen never got) is
    stored as words (:func:`bot.channels.payloads.as_words`): such a stored text counts as the payload. ``clean_*``
    counts only conversations in which every request was answered; in the others a message whose request failed
    may be stored late (after the next one: ``reordered``) or not at all (``lost_after_error``).
    """
    events, tickets = stored(deployment, list(sent))
    return tally(sent, events, tickets)


def tally(sent: Dict[str, Dict[str, Any]], events: Dict[str, List[Tuple[str, str]]],
          tickets: Dict[str, int]) -> Dict[str, Any]:
    """The counts of :func:`audit` from what was sent and what is stored (events per sender, tickets per one)."""
    totals: Dict[str, Any] = {"conversations": len(sent), "bot_sent": 0, "bot_stored": 0, "bot_lost": 0,
                              "bot_duplicated": 0, "tickets_expected": 0, "tickets_stored": 0, "tickets_lost": 0,
                              "tickets_duplicated": 0, "tickets_unexpected": 0, "clean_conversations": 0,
                              "clean_lost": 0, "clean_duplicated": 0, "clean_reordered": 0, "clean_unexpected": 0,
                              "examples": []}
    for sender, record in sent.items():
        turns: List[Turn] = record["turns"]
        words = {as_words(t.text): t.text for t in turns if is_payload(t.text)}
        user = [words.get(text, text) for kind, text in events.get(sender, []) if kind == "user"]
        found = check_events([(t.text, t.error is None) for t in turns], user)
        for key, value in found.items():
            totals[key] = totals.get(key, 0) + value
        clean = all(t.error is None for t in turns)
        if clean:  # a failed request may or may not have reached Rasa
            totals["clean_conversations"] += 1
            for key in ("lost", "duplicated", "reordered", "unexpected"):
                totals[f"clean_{key}"] += found[key]
            want = len([m for reply in record["replies"] for m in reply])
            have = sum(1 for kind, _ in events.get(sender, []) if kind == "bot")
            totals["bot_sent"] += want
            totals["bot_stored"] += have
            totals["bot_lost" if have < want else "bot_duplicated"] += abs(want - have)
        if any(found[key] for key in ("lost", "duplicated", "reordered", "unexpected")) \
                and len(totals["examples"]) < 12:  # the kb's phrasings: no personal data
            totals["examples"].append({"sender": sender, "sent": [[t.text, t.error] for t in turns],
                                       "stored": user, **{k: found[k] for k in ("lost", "duplicated", "reordered",
                                                                                 "unexpected")}})
        expected, found_tickets = int(created(record["replies"])), tickets.get(sender, 0)
        totals["tickets_expected"] += expected
        totals["tickets_stored"] += found_tickets
        totals["tickets_lost"] += max(0, expected - found_tickets)
        totals["tickets_duplicated" if expected else "tickets_unexpected"] += max(0, found_tickets - expected)
    return totals


def lost_or_duplicated(audit_: Dict[str, Any]) -> int:
    """Everything that should be stored once and is not: answered messages and answers not stored or stored twice,
    any order or unknown text in conversations without a failed request, tickets, requests nginx did not see."""
    return sum(int(audit_.get(key, 0)) for key in (
        "lost", "duplicated", "clean_reordered", "clean_unexpected", "bot_lost", "bot_duplicated", "tickets_lost",
        "tickets_duplicated", "tickets_unexpected", "nginx_missing"))
