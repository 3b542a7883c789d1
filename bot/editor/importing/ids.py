"""Entry ids from questions: readable, stable across re-imports, valid for the loader, unique in the kb.

"Wie beantrage ich einen Reisepass?" becomes ``beantrage-reisepass``: German umlauts are transliterated
(ä → ae, ß → ss), other accents dropped, and question words left out unless nothing else is left. The same
question always gives the same id, so importing a page again finds the files of the first import.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Set

from bot.kb.loader import ID_PATTERN

MAX_ID = 60
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue",
                                "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "þ": "th"})
STOP_WORDS = frozenset(
    "der die das des dem den ein eine einen einem einer eines und oder ich mich mir mein meine meinen meinem "
    "meiner wie wo was wann warum wer wen wem welche welcher welches wieso weshalb kann koennen muss muessen "
    "darf soll sollte ist sind bin bist hat habe haben wird werden es man sie ihr wir du zu zum zur im in am "
    "an auf aus bei mit von fuer ueber nach vor als auch noch nicht kein keine gibt bekomme erhalte "
    "a an the and or i me my mine how where what when why who whom which whose can could must may should "
    "shall do does did is are am was were be been have has had it its you your we our to of in on at by for "
    "with from about as get there this that".split()
)


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by ``-``; umlauts transliterated (may be empty)."""
    text = re.sub(r"(?<=\w)['’`´](?=\w)", "", unicodedata.normalize("NFKC", text))  # "aren't" -> "arent"
    text = text.translate(_TRANSLITERATE).lower()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join(re.findall(r"[a-z0-9]+", text))


def id_from_question(question: str) -> str:
    """A valid id for ``question``: its content words, at most :data:`MAX_ID` characters, cut at a word.

    Falls back to ``faq-`` and a hash of the question when it has no latin letters or digits.
    """
    words = slugify(question).split("-") if slugify(question) else []
    content = [word for word in words if word not in STOP_WORDS]
    chosen = content or words
    slug = ""
    for word in chosen:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_ID:
            break
        slug = candidate
    if not slug and chosen:
        slug = chosen[0][:MAX_ID]
    if not ID_PATTERN.match(slug):
        slug = "faq-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:10]
    return slug


def given_id(value: str) -> str:
    """An id taken from the source (an id column), made valid; empty if nothing usable is left."""
    slug = slugify(value)[:MAX_ID].strip("-")
    if slug and not ID_PATTERN.match(slug):
        slug = f"faq-{slug}"  # "7" -> "faq-7"
    return slug if ID_PATTERN.match(slug) else ""


def unique(base: str, taken: Set[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` ... whichever is not in ``taken`` (which is not changed)."""
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
