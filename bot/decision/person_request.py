"""Whether a message asks for a person, also when it asks a question in the same breath.

"Wie beantrage ich einen Reisepass? Ich möchte mit einem Menschen sprechen." is closer to the
passport phrasings than to any "I want a person" example, so nearest-example routing sends it to
the FAQ policy, which offers choices and no person. An explicit request for a person is honoured
whatever else the message says; the question part stays the citizen's open need, so the ticket
names it (:func:`question_besides`).

The patterns need a verb of talking or connecting next to a person noun: "Wohngeld für Menschen
mit Behinderung" or "Welche Mitarbeiter sind im Bürgeramt?" are questions, not requests.
"""

from __future__ import annotations

import re
from typing import Optional

from bot.decision.content import has_content, letter_tokens

_PERSON_DE = (r"(?:menschen|mensch|person|mitarbeiter(?:in)?|sachbearbeiter(?:in)?|berater(?:in)?"
              r"|ansprechpartner(?:in)?)")
_QUALIFIER_DE = r"(?:(?:echten|echte|richtigen|richtige|realen|reale|lebenden|menschlichen|zuständigen)\s+)?"
_TALK_DE = r"(?:sprechen|reden|chatten|schreiben|verbunden|verbinden|weiterleiten|weitergeleitet|kontakt)"
_PERSON_EN = (r"(?:human(?:\s+being)?|real\s+person|person|agent|someone|somebody|staff(?:\s+member)?|operator"
              r"|representative)")
_TALK_EN = r"(?:talk|speak|chat|connect|transfer|put\s+me\s+through|forward)"

_PATTERNS = (
    # "mit einem Menschen sprechen", "an eine echte Person weiterleiten", "mit nem Mitarbeiter reden"
    re.compile(rf"\b(?:mit|an|zu)\s+(?:einem|einer|einen|eine|nem|ner|dem|der)\s+{_QUALIFIER_DE}{_PERSON_DE}\b"
               rf"[^.?!]{{0,40}}?\b{_TALK_DE}\b", re.IGNORECASE),
    # "einen Menschen sprechen", "bitte einen Mitarbeiter", "Mensch bitte", "echten Menschen"
    re.compile(rf"\b(?:einen|eine)\s+{_QUALIFIER_DE}(?:menschen|mitarbeiter(?:in)?|sachbearbeiter(?:in)?)\s+"
               rf"(?:sprechen|bitte)\b", re.IGNORECASE),
    re.compile(r"\b(?:echten|richtigen|lebenden)\s+menschen\b", re.IGNORECASE),
    # "mit jemandem sprechen", "mit jemandem vom Amt über meinen Antrag reden"
    re.compile(rf"\bmit\s+jemandem\b[^.?!]{{0,40}}?\b{_TALK_DE}\b", re.IGNORECASE),
    # "talk to a human", "speak with someone", "connect me to an agent", "transfer me to a person"
    re.compile(rf"\b{_TALK_EN}\b[^.?!]{{0,20}}?\b(?:to|with)\s+(?:a\s+|an\s+|some\s+|the\s+)?(?:real\s+|live\s+|actual\s+)?"
               rf"{_PERSON_EN}\b", re.IGNORECASE),
    # "a human agent"; not "a real person": "Are you a real person?" asks about the bot
    re.compile(r"\b(?:human|live)\s+agent\b", re.IGNORECASE),
    # "I want a person", "I need a real human", "we'd like to have an agent"; not "I need a person to sign the form"
    re.compile(r"\b(?:i|we)\s+(?:want|need|would\s+like|'d\s+like)\s+(?:to\s+(?:have|get)\s+)?(?:a|an)\s+"
               r"(?:real\s+|live\s+|actual\s+)?(?:human(?:\s+being)?|person|agent|staff\s+member)\b"
               rf"(?!\s+to\s+(?!{_TALK_EN}\b))", re.IGNORECASE),
    # "a human I can talk to"
    re.compile(rf"\b(?:a|an)\s+(?:real\s+)?(?:human|person)\s+(?:i|we)\s+(?:can|could)\s+{_TALK_EN}\b", re.IGNORECASE),
)
# Words that say nothing of what the citizen needs besides the request ("Ich möchte bitte sofort ...").
_FILLERS = frozenset(
    "ich möchte will würde gern gerne bitte lieber jetzt sofort gleich direkt einfach eigentlich kann könnte mal "
    "stattdessen danke hallo nein nicht doch auch noch mich mir mit einem einer einen eine nem ner dem der den die "
    "zu an wir uns gibt es hier jemand jemanden jemandem irgendwen "
    "i would like want to please rather now right away immediately just can could may instead thanks hello no "
    "not me we us the a an you is there with me".split()
)
_REQUEST_WORD = re.compile(
    rf"{_PERSON_DE}|{_TALK_DE}|echten|echte|richtigen|richtige|realen|reale|lebenden|menschlichen|zuständigen|"
    rf"{_PERSON_EN}|{_TALK_EN}|human|live|actual|real|being|member|through", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")


def asks_for_person(text: str) -> bool:
    """Whether ``text`` explicitly asks to talk to a person (German or English)."""
    return any(pattern.search(text) for pattern in _PATTERNS)


def _says_more(sentence: str) -> bool:
    """Whether a sentence has words besides a request for a person and fillers."""
    return any(len(w) >= 3 and w not in _FILLERS and not _REQUEST_WORD.fullmatch(w)
               for w in letter_tokens(sentence))


def question_besides(text: str, known_words: frozenset = frozenset()) -> Optional[str]:
    """What a message that asks for a person asks besides, None when it asks nothing else.

    Sentences that only ask for a person are dropped; a sentence that also says what it is about is
    kept whole ("Kann ich mit jemandem über meinen Wohngeldantrag sprechen?").

    Args:
        text: the citizen's message.
        known_words: the kb's vocabulary (see :func:`bot.decision.content.has_content`).

    Returns:
        "Wie beantrage ich einen Reisepass?" for "Wie beantrage ich einen Reisepass? Ich möchte mit
        einem Menschen sprechen."; None for "Ich möchte mit einem Menschen sprechen" or "I want to
        talk to a human right now".
    """
    kept = [s.strip() for s in _SENTENCE.findall(text)
            if s.strip() and (_says_more(s) if asks_for_person(s) else has_content(s, known_words))]
    question = " ".join(kept)
    if not question or not _says_more(question) or not has_content(question, known_words):
        return None
    return question
