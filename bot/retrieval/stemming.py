"""Word normalisation for keyword matching: German stems (CISTEM), compound splitting, English suffixes.

CISTEM is the stemmer of Weissweiler & Fraser (2017), "Developing a Stemmer for German
Based on a Comparative Analysis of Publicly Available Stemmers"; it is run case-insensitively
because citizens rarely capitalise nouns in a chat.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import AbstractSet, List

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_UMLAUTS = str.maketrans({"ü": "u", "ö": "o", "ä": "a"})
_LINKING = ("s", "es", "n", "en", "e")
MIN_PART = 4


def words(text: str) -> List[str]:
    """Lowercase word tokens (letters or digits, no punctuation)."""
    return _WORD.findall(text.lower())


@lru_cache(maxsize=200_000)
def cistem(word: str) -> str:
    """The CISTEM stem of a lowercase German word."""
    if not word:
        return word
    word = word.translate(_UMLAUTS).replace("ß", "ss")
    word = re.sub(r"^ge(.{4,})", r"\1", word)
    word = word.replace("sch", "$").replace("ei", "%").replace("ie", "&")
    word = re.sub(r"(.)\1", r"\1*", word)
    while len(word) > 3:
        if len(word) > 5:
            word, hits = re.subn(r"e[mr]$", "", word)
            if hits:
                continue
            word, hits = re.subn(r"nd$", "", word)
            if hits:
                continue
        word, hits = re.subn(r"t$", "", word)
        if hits:
            continue
        word, hits = re.subn(r"[esn]$", "", word)
        if not hits:
            break
    word = re.sub(r"(.)\*", r"\1\1", word)
    return word.replace("$", "sch").replace("%", "ei").replace("&", "ie")


def english_stem(word: str) -> str:
    """A light English suffix stripper (plural, -ing, -ed); enough to match inflected forms."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + replacement
    return word


def split_compound(word: str, vocabulary: AbstractSet[str]) -> List[str]:
    """Split a German compound into known words, e.g. ``personalausweisantrag`` -> personalausweis, antrag.

    Both parts must be words of ``vocabulary`` (the kb's own words), at least four letters long;
    a linking ``s``/``es``/``n``/``en``/``e`` after the first part is allowed. The longest known
    head wins; the modifier is split again (it may itself be a compound the kb never uses alone).
    Returns ``[]`` when no split is found.
    """
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[cut:]
        if head not in vocabulary:
            continue
        modifier = word[:cut]
        stripped = [modifier[: -len(link)] for link in _LINKING if modifier.endswith(link)]
        for candidate in (modifier, *stripped):
            if len(candidate) < MIN_PART:
                continue
            if candidate in vocabulary:
                return [*(split_compound(candidate, vocabulary) or [candidate]), head]
            parts = split_compound(candidate, vocabulary)
            if parts:
                return [*parts, head]
    return []


def terms(text: str, lang: str, vocabulary: AbstractSet[str] = frozenset()) -> List[str]:
    """The index terms of a text: stems, plus the stems of compound parts found in ``vocabulary``."""
    out: List[str] = []
    for word in words(text):
        if lang == "de":
            out.append(cistem(word))
            if len(word) >= 2 * MIN_PART:
                out.extend(cistem(part) for part in split_compound(word, vocabulary))
        else:
            out.append(english_stem(word))
    return out
