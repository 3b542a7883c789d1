"""Multi-turn conversation scripts (``tests/conversations/*.yml``): schema, validation and loading.

A file holds ``conversations`` (hand-written scripts) and/or ``answers`` (a table: one question per
kb entry, each expanded to "ask → answer → helpful"). Every key is checked; a mistake is reported
with the file, the conversation, the turn and the key, so a script author knows what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional

import yaml

from tests.conftest import ROOT

SCRIPTS = ROOT / "tests" / "conversations"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
LANGS = ("de", "en")
DECISIONS = ("answer", "clarify", "handoff", "smalltalk", "rephrase", "silent")
STEPS = ("consent", "email", "created")
ACTIONS = ("agent_take", "agent_reply", "agent_release", "agent_resolve", "delete_conversation")
FILE_KEYS = ("conversations", "answers")
CONVERSATION_KEYS = ("name", "description", "lang", "agency", "turns", "ticket")
TURN_KEYS = ("user", "button", "action", "lang", "expect", "text")
EXPECT_KEYS = ("decision", "faq", "choices_include", "reason", "step", "reply_lang", "text_contains")
TICKET_KEYS = ("question", "reason", "candidates_include", "other_needs_include")
ANSWER_ROW_KEYS = ("name", "user", "faq", "lang", "reply_lang")


class ScriptError(ValueError):
    """A conversation script breaks the schema; the message names file, conversation, turn and key."""


@dataclass(frozen=True)
class Turn:
    """One step: the citizen types (``user``) or clicks (``button``), or someone acts (``action``)."""

    user: Optional[str] = None
    button: Optional[str] = None
    action: Optional[str] = None
    lang: Optional[str] = None
    text: Optional[str] = None
    expect: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    """A named script, its turns and what the ticket it ends in must hold."""

    name: str
    source: str
    turns: List[Turn]
    lang: str = "de"
    agency: Optional[str] = None
    description: str = ""
    ticket: Dict[str, Any] = field(default_factory=dict)


def kb_ids(*kbs: Path) -> FrozenSet[str]:
    """The entry ids in ``kbs`` (default: ``kb/`` and the example agencies' layers), from the front matter."""
    found = set()
    for path in (p for kb in kbs or (ROOT / "kb", ROOT / "examples" / "agencies") for p in kb.rglob("*.md")):
        match = re.search(r"^id:\s*(\S+)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            found.add(match.group(1).strip("'\""))
    return frozenset(found)


class _Checker:
    """Checks one file's content; ``where`` builds the error prefix."""

    def __init__(self, source: str, known: FrozenSet[str]) -> None:
        self.source = source
        self.known = known

    def fail(self, where: str, problem: str) -> ScriptError:
        return ScriptError(f"{self.source}: {where}: {problem}")

    def keys(self, value: Any, allowed: Iterable[str], where: str) -> Dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__}")
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                raise self.fail(where, f"unknown key '{key}' (allowed: {', '.join(allowed)})")
        return value

    def text(self, value: Any, where: str, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"'{key}' must be a non-empty string")
        return value

    def choice(self, value: Any, allowed: Iterable[str], where: str, key: str) -> str:
        allowed = tuple(allowed)
        if value not in allowed:
            raise self.fail(where, f"'{key}' must be one of {', '.join(allowed)}, got {value!r}")
        return str(value)

    def faq_ids(self, value: Any, where: str, key: str) -> List[str]:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, str) for i in items):
            raise self.fail(where, f"'{key}' must be a faq id or a list of them")
        for item in items:
            if item not in self.known:
                raise self.fail(where, f"'{key}': no kb entry with id '{item}'")
        return list(items)

    def texts(self, value: Any, where: str, key: str) -> List[str]:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise self.fail(where, f"'{key}' must be a non-empty string or a list of them")
        return list(items)

    def expect(self, value: Any, where: str) -> Dict[str, Any]:
        where = f"{where}: expect"
        raw = self.keys(value, EXPECT_KEYS, where)
        out: Dict[str, Any] = {}
        for key, item in raw.items():
            if key == "decision":  # one decision, or a list of acceptable ones
                items = item if isinstance(item, list) and item else [item]
                out[key] = [self.choice(i, DECISIONS, where, key) for i in items]
            elif key == "step":
                out[key] = self.choice(item, STEPS, where, key)
            elif key == "reply_lang":
                out[key] = self.choice(item, LANGS, where, key)
            elif key == "faq":
                if not isinstance(item, str):
                    raise self.fail(where, "'faq' must be one faq id")
                out[key] = self.faq_ids(item, where, key)[0]
            elif key == "choices_include":
                out[key] = self.faq_ids(item, where, key)
            elif key == "reason":
                out[key] = self.text(item, where, key)
            else:  # text_contains
                out[key] = self.texts(item, where, key)
        return out

    def turn(self, value: Any, where: str) -> Turn:
        raw = self.keys(value, TURN_KEYS, where)
        kinds = [k for k in ("user", "button", "action") if k in raw]
        if len(kinds) != 1:
            raise self.fail(where, "needs exactly one of 'user', 'button' or 'action'"
                            + (f" (has {', '.join(kinds)})" if kinds else ""))
        lang = self.choice(raw["lang"], LANGS, where, "lang") if "lang" in raw else None
        if "action" in raw:
            action = self.choice(raw["action"], ACTIONS, where, "action")
            for key in ("expect", "lang"):
                if key in raw:
                    raise self.fail(where, f"'{key}' is not allowed on an action turn")
            if "text" in raw and action != "agent_reply":
                raise self.fail(where, "'text' is only allowed with action agent_reply")
            text = self.text(raw["text"], where, "text") if "text" in raw else None
            return Turn(action=action, text=text)
        if "text" in raw:
            raise self.fail(where, "'text' is only allowed with action agent_reply")
        expect = self.expect(raw["expect"], where) if "expect" in raw else {}
        if "user" in raw:
            return Turn(user=self.text(raw["user"], where, "user"), lang=lang, expect=expect)
        button = self.text(raw["button"], where, "button")
        if not button.startswith("/"):
            raise self.fail(where, f"'button' must be a payload starting with '/', got {button!r}")
        return Turn(button=button, lang=lang, expect=expect)

    def ticket(self, value: Any, where: str) -> Dict[str, Any]:
        where = f"{where}: ticket"
        raw = self.keys(value, TICKET_KEYS, where)
        out: Dict[str, Any] = {}
        for key, item in raw.items():
            if key == "candidates_include":
                out[key] = self.faq_ids(item, where, key)
            elif key == "other_needs_include":
                out[key] = self.texts(item, where, key)
            else:
                out[key] = self.text(item, where, key)
        return out

    def conversation(self, value: Any, index: int) -> Conversation:
        where = f"conversation #{index + 1}"
        if isinstance(value, dict) and isinstance(value.get("name"), str) and NAME.match(value["name"]):
            where = f"conversation '{value['name']}'"
        raw = self.keys(value, CONVERSATION_KEYS, where)
        if "name" not in raw or not isinstance(raw["name"], str) or not NAME.match(raw["name"]):
            raise self.fail(where, "'name' is required: 3-81 lowercase letters, digits and '-'")
        where = f"conversation '{raw['name']}'"
        turns = raw.get("turns")
        if not isinstance(turns, list) or not turns:
            raise self.fail(where, "'turns' must be a non-empty list")
        parsed = [self.turn(t, f"{where}: turn {i + 1}") for i, t in enumerate(turns)]
        if parsed[0].action is not None:
            raise self.fail(where, "the first turn must be the citizen's ('user' or 'button')")
        agency = raw.get("agency")
        if agency is not None and not (isinstance(agency, str) and re.match(r"^[a-z0-9][a-z0-9-]{0,39}$", agency)):
            raise self.fail(where, f"'agency' must be an agency key, got {agency!r}")
        return Conversation(
            name=raw["name"], source=self.source, turns=parsed,
            lang=self.choice(raw.get("lang", "de"), LANGS, where, "lang"), agency=agency,
            description=str(raw.get("description", "")),
            ticket=self.ticket(raw["ticket"], where) if "ticket" in raw else {},
        )

    def answer_row(self, value: Any, index: int) -> Conversation:
        where = f"answers row #{index + 1}"
        raw = self.keys(value, ANSWER_ROW_KEYS, where)
        for key in ("user", "faq"):
            if key not in raw:
                raise self.fail(where, f"'{key}' is required")
        faq = self.faq_ids(raw["faq"], where, "faq")[0]
        lang = self.choice(raw.get("lang", "de"), LANGS, where, "lang")
        reply_lang = self.choice(raw.get("reply_lang", lang), LANGS, where, "reply_lang")
        name = raw.get("name", f"answer-{faq}")
        if not isinstance(name, str) or not NAME.match(name):
            raise self.fail(where, "'name' must be 3-81 lowercase letters, digits and '-'")
        turns = [
            Turn(user=self.text(raw["user"], where, "user"),
                 expect={"decision": ["answer"], "faq": faq, "reply_lang": reply_lang}),
            Turn(button="/feedback_helpful", expect={"reply_lang": reply_lang}),
        ]
        return Conversation(name=name, source=self.source, turns=turns, lang=lang,
                            description=f"table: answer {faq}, then helpful")


def parse(content: Any, source: str, known: FrozenSet[str]) -> List[Conversation]:
    """The conversations of one file's parsed YAML ``content`` (raises :class:`ScriptError`)."""
    check = _Checker(source, known)
    raw = check.keys(content, FILE_KEYS, "top level")
    if not raw:
        raise check.fail("top level", f"needs at least one of {', '.join(FILE_KEYS)}")
    found: List[Conversation] = []
    for key, builder in (("conversations", check.conversation), ("answers", check.answer_row)):
        if key in raw:
            if not isinstance(raw[key], list) or not raw[key]:
                raise check.fail("top level", f"'{key}' must be a non-empty list")
            found += [builder(item, i) for i, item in enumerate(raw[key])]
    return found


def load_all(directory: Path = SCRIPTS, known: Optional[FrozenSet[str]] = None) -> List[Conversation]:
    """Every conversation in ``directory``'s ``*.yml`` files; names must be unique across files."""
    known = kb_ids() if known is None else known
    conversations: List[Conversation] = []
    seen: Dict[str, str] = {}
    for path in sorted(directory.glob("*.yml")):
        source = path.name
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise ScriptError(f"{source}: not valid YAML: {err}") from None
        for conversation in parse(content, source, known):
            if conversation.name in seen:
                raise ScriptError(f"{source}: conversation '{conversation.name}': name already used in "
                                  f"{seen[conversation.name]}")
            seen[conversation.name] = source
            conversations.append(conversation)
    if not conversations:
        raise ScriptError(f"{directory}: no conversation scripts (*.yml) found")
    return conversations
