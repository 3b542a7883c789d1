"""The conversation-script schema: the shipped scripts load, and every kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conversation_script import ScriptError, load_all, parse

KNOWN = frozenset({"fundbuero", "reisepass-beantragen"})


def good() -> dict:
    return {"conversations": [{
        "name": "lost-wallet",
        "turns": [
            {"user": "Ich habe etwas verloren", "expect": {"decision": "clarify", "choices_include": ["fundbuero"]}},
            {"button": '/choose_faq{"faq_id":"fundbuero"}', "expect": {"decision": "answer", "faq": "fundbuero"}},
            {"button": "/feedback_not_helpful", "expect": {"step": "consent", "reply_lang": "de"}},
            {"button": "/affirm"}, {"button": "/skip_email", "expect": {"step": "created"}},
            {"action": "agent_reply", "text": "Hallo"}, {"action": "agent_resolve"},
        ],
        "ticket": {"question": "Ich habe etwas verloren", "candidates_include": ["fundbuero"]},
    }]}


def test_shipped_scripts_load_with_unique_names_and_enough_of_them() -> None:
    conversations = load_all()
    assert len(conversations) >= 120
    assert len({c.name for c in conversations}) == len(conversations)


def test_a_valid_script_parses_into_turns() -> None:
    [conversation] = parse(good(), "demo.yml", KNOWN)
    assert conversation.name == "lost-wallet" and conversation.lang == "de"
    assert [t.action for t in conversation.turns][-2:] == ["agent_reply", "agent_resolve"]
    assert conversation.turns[0].expect["choices_include"] == ["fundbuero"]
    assert conversation.turns[0].expect["decision"] == ["clarify"]  # one decision: a list of one
    assert conversation.ticket["question"] == "Ich habe etwas verloren"


def test_an_answers_table_row_becomes_ask_answer_helpful() -> None:
    [row] = parse({"answers": [{"faq": "fundbuero", "user": "Geldbörse im Bus vergessen"}]}, "t.yml", KNOWN)
    assert row.name == "answer-fundbuero"
    assert row.turns[0].expect == {"decision": ["answer"], "faq": "fundbuero", "reply_lang": "de"}
    assert row.turns[1].button == "/feedback_helpful"


def broken(path: str, value: Any) -> dict:
    """``good()`` with one value replaced (path like 'turns.0.expect.colour')."""
    content = good()
    target: Any = content["conversations"][0]
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = value
    return content


@pytest.mark.parametrize(("path", "value", "message"), [
    ("colour", "blue", "demo.yml: conversation 'lost-wallet': unknown key 'colour'"),
    ("turns.0.expect.colour", "x", "conversation 'lost-wallet': turn 1: expect: unknown key 'colour'"),
    ("turns.1.shout", "x", "turn 2: unknown key 'shout'"),
    ("ticket.email", "x", "conversation 'lost-wallet': ticket: unknown key 'email'"),
    ("turns.0.expect.decision", "maybe", "turn 1: expect: 'decision' must be one of answer, clarify"),
    ("turns.0.expect.decision", ["clarify", "maybe"], "turn 1: expect: 'decision' must be one of answer"),
    ("turns.0.expect.choices_include", ["no-such-entry"], "turn 1: expect: 'choices_include': no kb entry "
                                                           "with id 'no-such-entry'"),
    ("turns.2.expect.step", "done", "turn 3: expect: 'step' must be one of consent, email, created"),
    ("turns.2.expect.reply_lang", "fr", "'reply_lang' must be one of de, en"),
    ("turns.3.button", "affirm", "turn 4: 'button' must be a payload starting with '/'"),
    ("turns.5.action", "agent_dance", "turn 6: 'action' must be one of agent_take"),
    ("turns.6.text", "x", "turn 7: 'text' is only allowed with action agent_reply"),
    ("turns.0.button", "/affirm", "turn 1: needs exactly one of 'user', 'button' or 'action' (has user, button)"),
    ("turns", [], "conversation 'lost-wallet': 'turns' must be a non-empty list"),
    ("name", "Lost Wallet", "conversation #1: 'name' is required"),
    ("lang", "fr", "conversation 'lost-wallet': 'lang' must be one of de, en"),
    ("ticket.candidates_include", ["nope"], "ticket: 'candidates_include': no kb entry with id 'nope'"),
])
def test_mistakes_name_file_conversation_turn_and_key(path: str, value: Any, message: str) -> None:
    with pytest.raises(ScriptError) as err:
        parse(broken(path, value), "demo.yml", KNOWN)
    assert message in str(err.value)
    assert str(err.value).startswith("demo.yml: ")


def test_top_level_and_table_mistakes() -> None:
    with pytest.raises(ScriptError, match=r"t.yml: top level: unknown key 'stories'"):
        parse({"stories": []}, "t.yml", KNOWN)
    with pytest.raises(ScriptError, match=r"answers row #1: 'user' is required"):
        parse({"answers": [{"faq": "fundbuero"}]}, "t.yml", KNOWN)
    with pytest.raises(ScriptError, match=r"conversation 'x-y': the first turn must be the citizen's"):
        parse({"conversations": [{"name": "x-y", "turns": [{"action": "agent_take"}]}]}, "t.yml", KNOWN)


def test_names_must_be_unique_across_files(tmp_path: Path) -> None:
    row = {"answers": [{"faq": "fundbuero", "user": "Wo ist das Fundbüro?"}]}
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(yaml.safe_dump(row), encoding="utf-8")
    with pytest.raises(ScriptError, match=r"b.yml: conversation 'answer-fundbuero': name already used in a.yml"):
        load_all(tmp_path, KNOWN)
    (tmp_path / "b.yml").write_text("answers: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"b.yml: not valid YAML"):
        load_all(tmp_path, KNOWN)
