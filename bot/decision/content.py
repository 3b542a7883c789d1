"""Whether a message has anything to search for: no letters, keyboard runs and repeated characters do not.

Such messages ("asdf qwer", "jjjjjj", "😀😀", "?!?") must get neither small talk nor an FAQ answer:
the bot asks the citizen to rephrase and offers a person. Words the detector does not know are
not gibberish by themselves: "Fischereischein" is a real need the kb may not cover.
"""

from __future__ import annotations

import re
import unicodedata
from typing import AbstractSet, List

from bot.retrieval.language import strip_markup

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)  # letter runs, any script
_VOWELS = frozenset("aeiouyäöüáàâéèêíìîóòôúùû")
# Keyboard rows (German QWERTZ and English QWERTY); a run of 4 neighbouring keys either way is typing noise.
_ROWS = ("qwertzuiopü", "asdfghjklöä", "yxcvbnm", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_RUN = 4  # a run this long is noise in a short token (asdf, qwer); in a longer one it may be a word ("Wert")
_LONG_RUN = 5
# Vowel-less abbreviations citizens write; kb words passed as ``known`` count too.
ABBREVIATIONS = frozenset("pkw lkw kfz str nr tel bzw ggf vgl pdf html gmbh bgb stvo kg km qm brd usw zb dsgvo".split())


def letter_tokens(text: str) -> List[str]:
    """The lower-cased letter runs of ``text`` (digits, punctuation and emoji dropped)."""
    # HTML tags and script bodies are not words: "<img src=x onerror=...>", "<script>alert(1)</script>" say nothing
    return _TOKEN.findall(strip_markup(unicodedata.normalize("NFKC", text)).lower())


def _keyboard_run(token: str, length: int) -> bool:
    for row in _ROWS:
        for source in (row, row[::-1]):
            for start in range(len(source) - length + 1):
                if source[start : start + length] in token:
                    return True
    return False


def is_noise_token(token: str, known: AbstractSet[str] = frozenset()) -> bool:
    """A letter run that is typing noise: one repeated character, a keyboard run, or no vowel at all.

    Args:
        token: a lower-cased letter run.
        known: words that are never noise (the kb's vocabulary).
    """
    if token in known or token in ABBREVIATIONS:
        return False
    if len(token) >= 3 and (len(set(token)) == 1 or max(token.count(ch) for ch in set(token)) / len(token) >= 0.7):
        return True  # jjjjjj, hmmmmmmm, ääääää
    if _keyboard_run(token, _LONG_RUN) or (len(token) <= 6 and _keyboard_run(token, _RUN)):
        return True  # qwertzuiop, asdf, ölkjhg, xcvbnm
    return len(token) >= 3 and not any(ch in _VOWELS for ch in token)  # yxcvb, wtf, dfgh


def has_content(text: str, known: AbstractSet[str] = frozenset()) -> bool:
    """Whether ``text`` holds words to search for.

    False when it has no letters at all, or when at least half of its letter runs are typing noise
    (see :func:`is_noise_token`). Short real words ("ok", "Pass") count as content.

    Args:
        text: the citizen's message.
        known: words that are never noise (the kb's vocabulary).
    """
    tokens = letter_tokens(text)
    if not tokens:
        return False
    noise = sum(is_noise_token(t, known) for t in tokens)
    return noise * 2 < len(tokens)
