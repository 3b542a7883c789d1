"""German vs English: a small guess from function words, umlauts and the kb's own vocabulary."""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, Optional

_WORD = re.compile(r"[a-zäöüß]+")
FUNCTION_WORDS: Dict[str, FrozenSet[str]] = {
    "de": frozenset(
        "der die das und ist ich ein eine einen wie wo was wann warum wer kann muss brauche mein meine "
        "mich mir nicht auf für mit bei zum zur von beim gibt es bitte hallo danke sie ihr wir "
        "geht habe hat bin sind werden wird wieviel viel welche welcher welches noch schon auch oder aber".split()
    ),
    "en": frozenset(
        "the a an and is i my me how where what when why who can must need do does to for with of "
        "on in at it get have has please hello hi thanks thank you we our your am are will which much "
        "many long there this that or but".split()
    ),
}


def words(text: str) -> list[str]:
    """Lowercase letter runs of a text."""
    return _WORD.findall(text.lower())


class LanguageGuesser:
    """Guesses ``de`` or ``en``; words that occur in only one language's kb texts count as evidence.

    Args:
        vocabularies: for each language, the words that occur only in that language's kb texts.
    """

    def __init__(self, vocabularies: Dict[str, FrozenSet[str]]) -> None:
        self.vocabularies = vocabularies

    @classmethod
    def from_texts(cls, texts: Dict[str, Iterable[str]]) -> "LanguageGuesser":
        """Build distinctive vocabularies from each language's texts."""
        seen = {lang: frozenset(w for t in items for w in words(t) if len(w) > 2) for lang, items in texts.items()}
        distinct = {
            lang: frozenset(vocab - frozenset().union(*(v for other, v in seen.items() if other != lang)))
            for lang, vocab in seen.items()
        }
        return cls(distinct)

    def guess(self, text: str, default: str = "de") -> str:
        """The more likely language of ``text``; ``default`` without evidence."""
        tokens = words(text)
        scores = {lang: 0.0 for lang in ("de", "en")}
        for lang in scores:
            scores[lang] += 2 * sum(t in FUNCTION_WORDS[lang] for t in tokens)
            scores[lang] += sum(t in self.vocabularies.get(lang, frozenset()) for t in tokens)
        scores["de"] += 2 * sum(ch in "äöüß" for ch in text.lower())
        if scores["de"] == scores["en"]:
            return default
        return max(scores, key=lambda lang: scores[lang])


def detect_language(text: str, default: str = "de") -> str:
    """Guess ``de`` or ``en`` from function words and umlauts alone (no kb needed)."""
    return LanguageGuesser({}).guess(text, default)


def normalise_language(value: Optional[str], default: str = "de") -> str:
    """Map a browser/widget language tag such as ``de-DE`` or ``en`` to ``de``/``en``."""
    if value:
        primary = value.strip().lower().split("-")[0].split("_")[0]
        if primary in ("de", "en"):
            return primary
    return default
