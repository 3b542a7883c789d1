"""Button payloads typed by hand: sent to Rasa as payloads only when the bot offered that button.

Rasa reads a message that starts with ``/`` as an intent with entities (``/ask_human``, ``/affirm``,
``/choose_faq{"faq_id": "x"}``) and skips the NLU and its routing. The widget sends such payloads for the buttons
it shows; typed into ``/api/chat`` by a script they would skip the handoff's questions, create tickets with
"/ask_human" as the question or pick an entry the bot never proposed. So the web service notes the payloads of the
bot's latest reply in each conversation (:meth:`OfferedButtons.remember`, in the limits' shared store, so every
web process sees them), and a message starting with ``/`` reaches Rasa as a payload only when it is one of them.

Any other such message is read as what it says (:func:`as_words`): the leading slashes are dropped and the rest
goes through the NLU like every typed message ("/hilfe" → "hilfe", answered as a question; "/ask_human" →
"ask_human"; slashes alone → "?", which the bot answers with "please rephrase"). A citizen who types "/hilfe" out
of habit from other chat programs expects an answer, not an error message; and a script gains nothing it could
not get by typing the words. A refusal (4xx) would show exactly that citizen an error for a harmless habit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, List

from bot.limits.base import Limiter

PREFIX = "/"
OFFERED_TTL = 86400.0
"""How long the buttons of a reply can be clicked (a day: a widget kept open over lunch still works)."""
MAX_NOTED = 15
"""Payloads noted per reply (a note holds 200 characters: 15 digests of 12 characters and commas)."""
_DIGEST_CHARS = 12
_SLASHES = re.compile(r"^[/\s]+")


def is_payload(text: str) -> bool:
    """Whether Rasa would read ``text`` as a button payload (it starts with ``/``)."""
    return text.startswith(PREFIX)


def as_words(text: str) -> str:
    """``text`` as an ordinary message: without its leading slashes ("/hilfe" → "hilfe"); "?" if nothing is left."""
    return _SLASHES.sub("", text) or "?"


def _digest(payload: str) -> str:
    """A short fingerprint of a payload as the web service receives it (NFKC, stripped: see ``clean_message``)."""
    normal = unicodedata.normalize("NFKC", payload).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]


def offered_payloads(messages: Any) -> List[str]:
    """The payloads of every button in a reply from Rasa's REST channel (a list of message dicts), in order.

    Anything that is not such a list, or a button without a text payload, is skipped.
    """
    found: List[str] = []
    for message in messages if isinstance(messages, list) else []:
        buttons = message.get("buttons") if isinstance(message, dict) else None
        for button in buttons if isinstance(buttons, list) else []:
            payload = button.get("payload") if isinstance(button, dict) else None
            if isinstance(payload, str) and is_payload(payload.strip()):
                found.append(payload)
    return found


class OfferedButtons:
    """The payloads of the bot's latest reply per conversation, kept as digests in the limits' store.

    Args:
        limiter: the store shared by the web processes (in memory, SQL or Redis: see :mod:`bot.limits.stores`).
    """

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    @staticmethod
    def _key(conversation: str) -> str:
        return f"offered:{conversation}"

    def remember(self, conversation: str, messages: Any) -> None:
        """Note the buttons of the bot's latest reply in ``conversation`` (none: earlier buttons no longer count).

        Written only when they differ from the noted ones: most answers offer the same "did this help?" pair, and
        a read costs a fraction of a write in the SQL store (SQLite: about 0.6 ms against 2 ms).
        """
        digests = list(dict.fromkeys(_digest(payload) for payload in offered_payloads(messages)))[:MAX_NOTED]
        value, key = ",".join(digests), self._key(conversation)
        if self._limiter.recall(key) != value:
            self._limiter.note(key, value, OFFERED_TTL)

    def offered(self, conversation: str, payload: str) -> bool:
        """Whether the bot's latest reply in ``conversation`` had a button with ``payload``."""
        noted = self._limiter.recall(self._key(conversation))
        return bool(noted) and _digest(payload) in (noted or "").split(",")

    def admit(self, conversation: str, text: str) -> str:
        """What to send to Rasa for ``text``: itself, unless it is a payload that was not offered (then its words)."""
        if not is_payload(text) or self.offered(conversation, text):
            return text
        return as_words(text)

