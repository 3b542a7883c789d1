"""Every script in ``tests/conversations/*.yml``, played against the real services as the widget plays it.

Each turn goes to the web service's ``/api/chat`` with the widget's request (random conversation id,
page language, agency); the bot's decision is read from its ``json_message`` payloads ("custom").
Staff steps go through the real inbox, tickets are checked through the ticket API.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest

from bot.retrieval.language import detect_language
from tests.e2e.conftest import Running
from tests.e2e.conversation_script import Conversation, Turn, load_all
from tests.e2e.inbox_agent import InboxAgent, add_manager

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CONVERSATIONS = load_all()
AGENT, PASSWORD = "skript-agent", "ein-langes-skriptpasswort"
DEFAULT_REPLY = "Guten Tag, hier antwortet das Team des Bürgerservice."


@pytest.fixture(scope="module")
def agent(services: Running) -> Iterator[InboxAgent]:
    add_manager(services, AGENT, PASSWORD)
    inbox = InboxAgent(services, AGENT, PASSWORD)
    yield inbox
    inbox.close()


class Reply:
    """The bot's messages for one turn, and what they say about its decision."""

    def __init__(self, messages: List[Dict[str, Any]]) -> None:
        self.messages = messages
        self.customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        self.text = "\n".join(str(m.get("text") or "") for m in messages).strip()
        self.buttons = [str(b.get("payload")) for m in messages for b in (m.get("buttons") or [])]
        decisions = [c for c in self.customs if "decision" in c]
        self.payload: Dict[str, Any] = decisions[-1] if decisions else {}

    @property
    def decision(self) -> Optional[str]:
        """answer, clarify, handoff, smalltalk, rephrase, or silent (a person holds the conversation)."""
        found = self.payload.get("decision")
        return "silent" if found == "human" else found

    @property
    def reply_lang(self) -> str:
        """The payload's ``lang`` where the bot gives it, else a guess from its text."""
        lang = self.payload.get("lang")
        return str(lang) if lang else detect_language(self.text)

    def observed(self, key: str) -> Any:
        if key == "decision":
            return self.decision
        if key == "faq":
            return self.payload.get("faq_id")
        if key == "choices_include":
            return [c.get("faq_id") for c in self.payload.get("candidates") or []]
        if key == "reply_lang":
            return self.reply_lang
        if key == "text_contains":
            return self.text
        return self.payload.get(key)  # reason, step

    def mismatches(self, expect: Dict[str, Any]) -> List[str]:
        problems = []
        for key, wanted in expect.items():
            actual = self.observed(key)
            if key == "decision":
                if actual not in wanted:
                    problems.append(f"decision: expected {' or '.join(wanted)}, got {actual!r}")
            elif key == "choices_include":
                missing = [w for w in wanted if w not in actual]
                if missing:
                    problems.append(f"choices_include: {missing} not offered (offered: {actual})")
            elif key == "text_contains":
                missing = [w for w in wanted if w.lower() not in actual.lower()]
                if missing:
                    problems.append(f"text_contains: {missing} not in the bot's text")
            elif actual != wanted:
                problems.append(f"{key}: expected {wanted!r}, got {actual!r}")
        return problems

    def describe(self) -> str:
        return (f"  bot text: {self.text[:400]!r}\n  payloads: {json.dumps(self.customs, ensure_ascii=False)[:600]}"
                f"\n  buttons: {self.buttons}")


class Player:
    """Plays one conversation script and checks every expectation."""

    def __init__(self, services: Running, agent: InboxAgent, conversation: Conversation) -> None:
        self.services = services
        self.agent = agent
        self.conversation = conversation
        self.sender = uuid.uuid4().hex
        self.cases: List[str] = []
        self.last: Optional[Reply] = None

    def fail(self, index: int, turn: Turn, problem: str) -> None:
        what = turn.user or turn.button or turn.action
        pytest.fail(f"{self.conversation.source}: conversation '{self.conversation.name}': turn {index + 1} "
                    f"({what!r}): {problem}", pytrace=False)

    def play(self) -> None:
        for index, turn in enumerate(self.conversation.turns):
            if turn.action is not None:
                self.act(index, turn)
            else:
                self.say(index, turn)
        if self.conversation.ticket:
            self.check_ticket()

    def say(self, index: int, turn: Turn) -> None:
        message = turn.user if turn.user is not None else turn.button
        if turn.button is not None:  # a citizen can only click what the bot offered last
            offered = self.last.buttons if self.last is not None else []
            if turn.button not in offered:
                self.fail(index, turn, f"button {turn.button!r} was not offered by the bot's previous reply "
                                       f"(offered: {offered})")
        body: Dict[str, Any] = {"sender": self.sender, "message": message,
                                "lang": turn.lang or self.conversation.lang}
        if self.conversation.agency:
            body["agency"] = self.conversation.agency
        response = httpx.post(f"{self.services.web}/api/chat", json=body, timeout=60)
        if response.status_code != 200:
            self.fail(index, turn, f"/api/chat answered {response.status_code}: {response.text[:300]}")
        reply = Reply(response.json())
        self.last = reply
        if not reply.messages:
            self.fail(index, turn, "the bot sent nothing")
        self.cases += [str(c["case_number"]) for c in reply.customs
                       if c.get("case_number") and c["case_number"] not in self.cases]
        problems = reply.mismatches(turn.expect)
        if problems:
            self.fail(index, turn, "; ".join(problems) + "\n" + reply.describe())

    def act(self, index: int, turn: Turn) -> None:
        if turn.action == "delete_conversation":
            self.delete(index, turn)
            return
        if not self.cases:
            self.fail(index, turn, "needs a ticket, but no case number was seen in this conversation")
        case = self.cases[-1]
        if turn.action == "agent_take":
            self.agent.take(case)
        elif turn.action == "agent_reply":
            text = turn.text or DEFAULT_REPLY
            self.agent.reply(case, text)
            self.wait_for_reply(index, turn, text)
        elif turn.action == "agent_release":
            self.agent.release(case)
        elif turn.action == "agent_resolve":
            self.agent.resolve(case)
        self.last = None  # buttons shown before a staff step are not clicked after it

    def wait_for_reply(self, index: int, turn: Turn, text: str) -> None:
        """The widget polls ``/api/chat/replies``; the agent's reply must arrive there."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            replies = httpx.get(f"{self.services.web}/api/chat/replies", timeout=30,
                                headers={"X-Auskunft-Conversation": self.sender}).json()
            if any(r["text"] == text for r in replies):
                return
            time.sleep(0.2)
        self.fail(index, turn, "the agent's reply did not reach the conversation within 10 s")

    def delete(self, index: int, turn: Turn) -> None:
        """'Gespräch löschen': the stored messages go; the widget then starts a new conversation id."""
        response = httpx.delete(f"{self.services.web}/api/chat/conversation", timeout=30,
                                headers={"X-Auskunft-Conversation": self.sender})
        if response.status_code != 204:
            self.fail(index, turn, f"delete answered {response.status_code}: {response.text[:300]}")
        trackers = self.services.home / "trackers.sqlite3"
        with sqlite3.connect(trackers) as db:
            left = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (self.sender,)).fetchone()[0]
        if left:
            self.fail(index, turn, f"{left} tracker events of the deleted conversation are still stored")
        self.sender = uuid.uuid4().hex
        self.last = None

    def check_ticket(self) -> None:
        expected = self.conversation.ticket
        where = f"{self.conversation.source}: conversation '{self.conversation.name}': ticket"
        if not self.cases:
            pytest.fail(f"{where}: expected a ticket, but none was created", pytrace=False)
        ticket = self.agent.ticket(self.cases[-1])
        problems = []
        for key in ("question", "reason"):
            if key in expected and ticket.get(key) != expected[key]:
                problems.append(f"{key}: expected {expected[key]!r}, got {ticket.get(key)!r}")
        if "candidates_include" in expected:
            ids = [c.get("faq_id") for c in ticket.get("candidates") or []]
            missing = [w for w in expected["candidates_include"] if w not in ids]
            if missing:
                problems.append(f"candidates_include: {missing} not among the ticket's candidates {ids}")
        if "other_needs_include" in expected:
            if "other_needs" not in ticket:
                problems.append("other_needs_include: the ticket API returns no 'other_needs'")
            else:
                missing = [w for w in expected["other_needs_include"] if w not in (ticket["other_needs"] or [])]
                if missing:
                    problems.append(f"other_needs_include: {missing} not in {ticket['other_needs']}")
        if problems:
            pytest.fail(f"{where} {self.cases[-1]}: " + "; ".join(problems), pytrace=False)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.name for c in CONVERSATIONS])
def test_conversation_script(conversation: Conversation, services: Running, agent: InboxAgent) -> None:
    Player(services, agent, conversation).play()


def test_there_are_at_least_120_scripts() -> None:
    assert len(CONVERSATIONS) >= 120, len(CONVERSATIONS)
