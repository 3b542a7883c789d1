"""Editor usage analytics: grouping on hand-made vectors, questions read from a tracker store written by Rasa's own
SQLTrackerStore, and the figures over a seeded log, ticket database and feedback votes (hash encoder, offline)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
from sqlalchemy.orm import Session

from bot.editor.usage import (
    EditorAnalytics,
    FaqUse,
    Turn,
    editor_analytics,
    group_questions,
    read_turns,
    topic_text,
    tracker_engine,
)
from bot.feedback.models import Feedback
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.index import FaqIndex
from bot.tickets.models import Ticket
from tests.conftest import ROOT, HashEncoder
from tests.helpers.editor_usage import NOW, answer, ask, at, bot, handoff_form, save


def unit(*parts: float) -> np.ndarray:
    vector = np.zeros(8, dtype=np.float32)
    vector[: len(parts)] = parts
    return vector / np.linalg.norm(vector)


# --- grouping ------------------------------------------------------------------------------------------------------

def test_groups_are_found_biggest_first_with_the_most_central_member_first() -> None:
    texts = ["a1", "b1", "a2", "c", "a3", "b2"]
    vectors = np.stack([unit(1, 0.3), unit(0, 1, 0.1), unit(1, 0), unit(0, 0, 1), unit(1, -0.2), unit(0, 1, -0.1)])
    groups = group_questions(texts, vectors, threshold=0.9)
    assert groups == [(3, [2, 4, 0]), (2, [1, 5]), (1, [3])]
    assert group_questions(texts, vectors, threshold=0.9, limit=2) == groups[:2]
    assert group_questions(texts, vectors, threshold=0.9, limit=0) == []


def test_a_chain_of_similar_questions_is_not_one_group() -> None:
    angles = np.radians([0, 20, 40, 60])  # neighbours at cos 0.94, two apart at cos 0.77
    vectors = np.stack([unit(np.cos(a), np.sin(a)) for a in angles])
    assert group_questions(["q0", "q1", "q2", "q3"], vectors, threshold=0.9) == [(3, [1, 0, 2]), (1, [3])]


def test_identical_texts_share_a_group_and_count_each_time() -> None:
    texts = ["Wo ist das Fundbüro?", "x", "wo ist  das fundbüro?", "y"]
    vectors = np.stack([unit(1), unit(0, 1), unit(0, 0, 1), unit(0, 0, 0, 1)])  # the copy's vector is far away
    assert group_questions(texts, vectors, threshold=0.9)[0] == (2, [0, 2])


def test_grouping_checks_its_input() -> None:
    assert group_questions([], np.zeros((0, 8), dtype=np.float32)) == []
    with pytest.raises(ValueError, match="2 texts"):
        group_questions(["a", "b"], np.zeros((3, 8), dtype=np.float32))


# --- reading Rasa's tracker store ---------------------------------------------------------------------------------

def make_engine_for(path: Path) -> Any:
    import sqlalchemy as sa

    return sa.create_engine(f"sqlite:///{path}")


def seeded_log(path: Path) -> Path:
    """Six conversations of the last 30 days (c6 only as a ticket) and one older one."""
    return save(path, {
        "c1": [ask("Wie melde ich Sperrmüll an?", at(3)), *answer("sperrmuell", at(3, 1)),
               ask("/feedback_helpful", at(3, 2), "feedback_helpful"), *bot(at(3, 2), action="utter_thanks"),
               ask("Und alte Möbel abholen lassen?", at(3, 3)), *answer("sperrmuell", at(3, 4), 0.66)],
        "c2": [ask("Hallo", at(2), "greet"), *bot(at(2)),
               ask("Was brauche ich für den Personalausweis? Schreiben Sie an max@example.org", at(2, 1)),
               *answer("personalausweis", at(2, 2)), ask("/feedback_not_helpful", at(2, 3), "feedback_not_helpful"),
               *handoff_form(at(2, 4))],
        "c3": [ask("Hund anmelden Steuer", at(1)), *answer("hundesteuer-anmelden", at(1, 1)),
               ask("nein", at(1, 2), "deny"), *bot(at(1, 2), {"decision": "handoff", "step": "consent"}),
               ask("Wie lange dauert die Bearbeitung?", at(1, 3), top=0.2),
               *bot(at(1, 4), {"decision": "clarify", "candidates": []}),
               ask('/choose_faq{"faq_id":"sperrmuell"}', at(1, 5), "choose_faq"), *answer("sperrmuell", at(1, 6))],
        "c4": [ask("Wann hat das Hallenbad geöffnet?", at(1.5), top=0.1), *handoff_form(at(1.5, 1), custom=False),
               ask("/deny", at(1.5, 2), "deny")],
        "c5": [ask("Hallenbad Öffnungszeiten am Sonntag", at(0.5), top=None), *bot(at(0.5, 1)),
               ask("Ich will mit einem Menschen sprechen", at(0.5, 2), "ask_human"), *handoff_form(at(0.5, 3))],
        "c7": [ask("Wie melde ich Sperrmüll an?", at(45)), *answer("sperrmuell", at(45, 1))],
    })


def test_read_turns_reads_questions_and_decisions_as_rasa_stored_them(tmp_path: Path) -> None:
    engine = make_engine_for(seeded_log(tmp_path / "rasa.db"))
    turns = read_turns(engine, NOW - timedelta(days=30))
    engine.dispose()
    assert [(t.conversation_id, t.text, t.decision, t.faq_id, t.score) for t in turns] == [
        ("c1", "Wie melde ich Sperrmüll an?", "answer", "sperrmuell", 0.71),
        ("c1", "Und alte Möbel abholen lassen?", "answer", "sperrmuell", 0.66),
        ("c2", "Was brauche ich für den Personalausweis? Schreiben Sie an [E-MAIL]", "answer", "personalausweis",
         0.71),
        ("c3", "Hund anmelden Steuer", "answer", "hundesteuer-anmelden", 0.71),
        ("c3", "Wie lange dauert die Bearbeitung?", "clarify", None, 0.2),
        ("c4", "Wann hat das Hallenbad geöffnet?", "handoff", None, 0.1),
        ("c5", "Hallenbad Öffnungszeiten am Sonntag", "other", None, None),
    ]
    assert turns[0].at == datetime.fromtimestamp(at(3), tz=timezone.utc) and turns[0].at.tzinfo is not None


def test_read_turns_of_a_database_without_events_is_empty(tmp_path: Path) -> None:
    engine = make_engine_for(tmp_path / "empty.db")
    assert read_turns(engine, NOW) == []
    engine.dispose()


def test_tracker_engine_follows_endpoints_yml(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: ${TRACKER_DB}\n", encoding="utf-8")
    database = tmp_path / "rasa.db"
    assert tracker_engine(endpoints, {"TRACKER_DB": str(database)}) is None  # not created yet (and not created)
    assert not database.exists()
    seeded_log(database)
    engine = tracker_engine(endpoints, {"TRACKER_DB": str(database)})
    assert engine is not None and len(read_turns(engine, NOW - timedelta(days=30))) == 7
    engine.dispose()
    with pytest.raises(ValueError, match="TRACKER_DB"):
        tracker_engine(endpoints, {})
    endpoints.write_text("tracker_store:\n  type: redis\n", encoding="utf-8")
    assert tracker_engine(endpoints, {}) is None
    endpoints.write_text("tracker_store:\n  type: SQL\n  db: ':memory:'\n", encoding="utf-8")
    assert tracker_engine(endpoints, {}) is None


# --- the analytics -------------------------------------------------------------------------------------------------


@pytest.fixture
def index(mini_kb: Path, encoder: HashEncoder) -> FaqIndex:
    return build_index(load_kb(mini_kb), encoder)


def ticket(session: Session, conversation_id: str, question: str, days_ago: float) -> None:
    session.add(Ticket(case_number=f"AK-{conversation_id}", conversation_id=conversation_id, language="de",
                       reason="low_confidence", question=question, consent=True,
                       created_at=NOW - timedelta(days=days_ago)))


def vote(session: Session, faq_id: str, helpful: bool, days_ago: float) -> None:
    session.add(Feedback(conversation_id="c", faq_id=faq_id, helpful=helpful, language="de",
                         created_at=NOW - timedelta(days=days_ago)))


def test_editor_analytics_on_a_seeded_log(tmp_path: Path, session: Session, index: FaqIndex,
                                          encoder: HashEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.editor.usage.GROUP_THRESHOLD", 0.46)  # hash vectors are not the model's space
    ticket(session, "c2", "Was brauche ich für den Personalausweis? Schreiben Sie an [E-MAIL]", 2)
    ticket(session, "c6", "Hat das Hallenbad am Sonntag geöffnet? Rückruf an 0171 2345678", 0.2)  # log erased
    ticket(session, "c7", "Wie melde ich Sperrmüll an?", 44)  # before the period
    for faq_id, helpful, days_ago in [("sperrmuell", True, 3), ("sperrmuell", True, 40), ("personalausweis", False, 2),
                                      ("hundesteuer-anmelden", True, 5), ("hundesteuer-anmelden", False, 1)]:
        vote(session, faq_id, helpful, days_ago)
    session.commit()
    engine = make_engine_for(seeded_log(tmp_path / "rasa.db"))
    result = editor_analytics(engine, session, index, encoder, days=30, now=NOW)
    engine.dispose()

    assert isinstance(result, EditorAnalytics)
    # contained: c1 (answered twice) and c3 (after "nein" and a clarification, the answer to the entry picked stands);
    # not c2 (not helpful, ticket), c4 and c5 (no answer; no ticket either, so they counted before), c6 (ticket only)
    assert (result.days, result.conversations, result.contained) == (30, 6, 2)
    assert result.containment_rate == pytest.approx(2 / 6)
    assert (result.questions, result.answered) == (8, 4)
    assert result.unanswered == [  # newest first
        Turn("c6", "Hat das Hallenbad am Sonntag geöffnet? Rückruf an [TELEFON]", NOW - timedelta(days=0.2),
             "handoff", None, None),
        Turn("c5", "Hallenbad Öffnungszeiten am Sonntag", datetime.fromtimestamp(at(0.5), tz=timezone.utc), "other",
             None, None),
        Turn("c3", "Wie lange dauert die Bearbeitung?", datetime.fromtimestamp(at(1, 3), tz=timezone.utc), "clarify",
             None, 0.2),
        Turn("c3", "Hund anmelden Steuer", datetime.fromtimestamp(at(1), tz=timezone.utc), "answer",
             "hundesteuer-anmelden", 0.71),
        Turn("c4", "Wann hat das Hallenbad geöffnet?", datetime.fromtimestamp(at(1.5), tz=timezone.utc), "handoff",
             None, 0.1),
        Turn("c2", "Was brauche ich für den Personalausweis? Schreiben Sie an [E-MAIL]",
             datetime.fromtimestamp(at(2, 1), tz=timezone.utc), "answer", "personalausweis", 0.71),
    ]
    assert result.faq_use == [
        FaqUse("sperrmuell", "Wie melde ich Sperrmüll an?", "Abfallwirtschaft", 2, 1, 0),
        FaqUse("hundesteuer-anmelden", "Wie melde ich meinen Hund zur Hundesteuer an?", "Steueramt", 1, 1, 1),
        FaqUse("personalausweis", "Wie beantrage ich einen Personalausweis?", "Bürgeramt", 1, 0, 1),
        FaqUse("en-register-address", "How do I register my address?", "Bürgeramt", 0, 0, 0),
    ]
    topics = result.missing_topics
    assert sum(topic.size for topic in topics) == 6 and topics == sorted(topics, key=lambda t: -t.size)
    swim = topics[0]
    assert swim.size == 3 and sorted(swim.examples) == sorted(
        ["Wann hat das Hallenbad geöffnet?", "Hallenbad Öffnungszeiten am Sonntag",
         "Hat das Hallenbad am Sonntag geöffnet? Rückruf an [TELEFON]"])
    dog = next(topic for topic in topics if topic.examples == ["Hund anmelden Steuer"])
    assert (dog.size, dog.nearest_faq_id, dog.nearest_title) == (
        1, "hundesteuer-anmelden", "Wie melde ich meinen Hund zur Hundesteuer an?")
    assert dog.nearest_score is not None and dog.nearest_score > 0.3


def test_containment_needs_an_answer_that_stands_and_placeholders_are_no_topics(
        tmp_path: Path, session: Session, index: FaqIndex, encoder: HashEncoder) -> None:
    engine = make_engine_for(save(tmp_path / "rasa.db", {
        "goodbye": [ask("Wann hat das Standesamt samstags auf?", at(1), top=0.2), *bot(at(1, 1)),
                    ask("Und an Feiertagen?", at(1, 2), "goodbye"), *bot(at(1, 3), action="utter_goodbye")],
        "button": [ask("Wie melde ich Sperrmüll an?", at(2)), *answer("sperrmuell", at(2, 1)),
                   ask("/feedback_not_helpful", at(2, 2), "feedback_not_helpful"), *bot(at(2, 3))],
        "nein": [ask("Was kostet der Personalausweis?", at(3)), *answer("personalausweis", at(3, 1)),
                 ask("Nein", at(3, 2), "deny"), *bot(at(3, 3))],
        "offer": [ask("Was kostet der Personalausweis?", at(3.5)), *answer("personalausweis", at(3.5, 1)),
                  ask("Ich möchte mit einem Menschen sprechen", at(3.5, 2), "ask_human"), *handoff_form(at(3.5, 3))],
        "thanks": [ask("Wie melde ich Sperrmüll an?", at(4)), *answer("sperrmuell", at(4, 1)),
                   ask("Danke!", at(4, 2), "thank"), *bot(at(4, 3), action="utter_thanks")],
        "again": [ask("Hund anmelden", at(5)), *answer("sperrmuell", at(5, 1)),
                  ask("/feedback_not_helpful", at(5, 2), "feedback_not_helpful"),
                  ask("Hundesteuer anmelden", at(5, 3)), *answer("hundesteuer-anmelden", at(5, 4))],
        "mail": [ask("max.mustermann@example.org", at(6), top=0.1), *bot(at(6, 1)),
                 ask("Meine Nummer: 0171 2345678", at(6, 2), top=0.1), *bot(at(6, 3))],
    }))
    result = editor_analytics(engine, session, index, encoder, days=30, now=NOW)
    engine.dispose()
    # thanks and again (its second answer stands) only; the goodbye after an unanswered question, not helpful by
    # button or by "Nein", and a handoff after the answer are not contained (before: 6 of 7, all without a ticket)
    assert (result.conversations, result.contained) == (7, 2)
    assert result.containment_rate == pytest.approx(2 / 7)
    assert {t.text for t in result.unanswered} >= {"[E-MAIL]", "Meine Nummer: [TELEFON]"}
    examples = [example for topic in result.missing_topics for example in topic.examples]
    assert not [example for example in examples if "[E-MAIL]" in example or "[TELEFON]" in example]
    assert sum(topic.size for topic in result.missing_topics) == len(result.unanswered) - 2


@pytest.mark.parametrize(("text", "expected"), [
    ("[E-MAIL]", None), ("  [TELEFON] [IBAN] ", None), ("Meine Nummer: [TELEFON]", None), ("Mail: [E-MAIL]!", None),
    ("Hundesteuer?", "Hundesteuer?"), ("[E-MAIL] ?", None),
    ("Was brauche ich für den Personalausweis? Schreiben Sie an [E-MAIL]",
     "Was brauche ich für den Personalausweis? Schreiben Sie an"),
    ("Ummeldung nach Umzug in die [ADRESSE]", "Ummeldung nach Umzug in die"), ("[NAME] fragt", "[NAME] fragt"),
])
def test_placeholders_are_stripped_before_grouping(text: str, expected: Optional[str]) -> None:
    assert topic_text(text) == expected


def test_without_a_tracker_store_only_tickets_count(session: Session, index: FaqIndex, encoder: HashEncoder) -> None:
    ticket(session, "c6", "Hat das Hallenbad am Sonntag geöffnet?", 1)
    session.commit()
    result = editor_analytics(None, session, index, encoder, days=7, now=NOW)
    assert (result.conversations, result.contained, result.questions, result.answered) == (1, 0, 1, 0)
    assert [(t.decision, t.text) for t in result.unanswered] == [("handoff", "Hat das Hallenbad am Sonntag geöffnet?")]
    assert [topic.size for topic in result.missing_topics] == [1]
    empty = editor_analytics(None, session, index, encoder, days=7, now=NOW + timedelta(days=30))
    assert (empty.conversations, empty.containment_rate, empty.missing_topics) == (0, None, [])
    with pytest.raises(ValueError, match="days"):
        editor_analytics(None, session, index, encoder, days=0)


def test_a_question_the_ticket_names_counts_as_handed_over(tmp_path: Path, session: Session, index: FaqIndex,
                                                           encoder: HashEncoder) -> None:
    log = save(tmp_path / "rasa.db", {"c9": [ask("Wo ist das Fundbüro?", at(1)), *bot(at(1, 1))]})
    ticket(session, "c9", "Wo ist das  Fundbüro?", 1)
    session.commit()
    engine = make_engine_for(log)
    result = editor_analytics(engine, session, index, encoder, now=NOW)
    engine.dispose()
    assert [(t.conversation_id, t.decision) for t in result.unanswered] == [("c9", "handoff")]
    assert (result.conversations, result.contained, result.questions) == (1, 0, 1)


def test_the_module_imports_neither_rasa_nor_the_web_stack() -> None:
    code = ("import sys, bot.editor.usage; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'rasa', 'rasa_sdk', 'fastapi', 'torch'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_only_the_newest_unanswered_questions_are_grouped(monkeypatch: pytest.MonkeyPatch, session: Session,
                                                          index: FaqIndex, encoder: HashEncoder) -> None:
    import bot.editor.usage as usage

    for number, days_ago in enumerate([3, 1, 2]):
        ticket(session, f"c{number}", f"Frage {number}", days_ago)
    session.commit()
    monkeypatch.setattr(usage, "MAX_GROUPED", 2)
    result = editor_analytics(None, session, index, encoder, now=NOW)
    assert len(result.unanswered) == 3
    assert sorted(example for topic in result.missing_topics for example in topic.examples) == ["Frage 1", "Frage 2"]


def test_each_agency_sees_only_its_own_conversations_tickets_and_votes(tmp_path: Path, session: Session,
                                                                     index: FaqIndex, encoder: HashEncoder) -> None:
    engine = make_engine_for(save(tmp_path / "rasa.db", {
        "town": [ask("Wie melde ich Sperrmüll an?", at(1), agency="adorf"), *answer("sperrmuell", at(1, 1))],
        "town2": [ask("Wo ist das Dorfgemeinschaftshaus?", at(1), agency="adorf"), *handoff_form(at(1, 1))],
        "city": [ask("Wie beantrage ich einen Personalausweis?", at(2)), *answer("personalausweis", at(2, 1))],
    }))
    session.add(Ticket(case_number="AK-TOWN2", conversation_id="town2", language="de", reason="low_confidence",
                       question="Wo ist das Dorfgemeinschaftshaus?", consent=True, agency="adorf",
                       created_at=NOW - timedelta(days=1)))
    for conversation, faq_id in (("town", "sperrmuell"), ("city", "personalausweis")):
        session.add(Feedback(conversation_id=conversation, faq_id=faq_id, helpful=True, language="de",
                             created_at=NOW - timedelta(days=1)))
    session.commit()
    town = editor_analytics(engine, session, index, encoder, now=NOW, agency="adorf", default_agency="stadt")
    city = editor_analytics(engine, session, index, encoder, now=NOW, agency="stadt", default_agency="stadt")
    both = editor_analytics(engine, session, index, encoder, now=NOW)
    engine.dispose()
    assert (town.conversations, town.contained, town.answered) == (2, 1, 1)
    assert [t.text for t in town.unanswered] == ["Wo ist das Dorfgemeinschaftshaus?"]
    assert {u.faq_id: u.helpful for u in town.faq_use if u.helpful} == {"sperrmuell": 1}
    assert (city.conversations, city.contained, city.unanswered) == (1, 1, [])
    assert {u.faq_id: u.helpful for u in city.faq_use if u.helpful} == {"personalausweis": 1}
    assert (both.conversations, both.contained) == (3, 2)
