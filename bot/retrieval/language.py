"""German or English, per message: a statistical detector (lingua) plus evidence from the kb's own words.

The reply follows the language the citizen writes in; the page's language is only the fallback
for messages too short or too mixed to tell ("Hallo", "ok", "Kita place"). How sure is sure
enough was chosen on dev data (``python bench/language.py``, see the benchmarks page).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, Optional

_WORD = re.compile(r"[a-zäöüß]+")
_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")  # e-mail addresses and links say nothing of it
# Script and style blocks are code, tags are markup: "<script>alert(1)</script>" is in no citizen's language.
_CODE_BLOCK = re.compile(r"<(script|style)\b[^>]{0,500}>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^<>]{0,500}>")
LANGUAGES = ("de", "en")
FUNCTION_WORDS: Dict[str, FrozenSet[str]] = {
    "de": frozenset(
        "der die das und ist ich ein eine einen wie wo was wann warum wer kann muss brauche mein meine "
        "mich mir nicht auf für mit bei zum zur von beim gibt es bitte hallo danke sie ihr wir "
        "geht habe hat bin sind werden wird wieviel viel welche welcher welches noch schon auch oder aber".split()
    ),
    "en": frozenset(
        "the a an and is i my me how where what when why who can must need do does to for with of "
        "on in at it get have has please hello thanks thank you we our your am are will which much "
        "many long there this that or but".split()
    ),
}
# Weights and threshold chosen on the dev split of bench/language.py (xSID valid + sample kb dev).
EVIDENCE_WEIGHT = 0.5
CONFIDENT_AT = 0.5
_MAX_LOGIT = 6.0
STATISTICAL_FULL_AT = 20  # letters; character statistics of shorter messages ("Hallo", "xyz") count less

_detector: Any = None
_lock = threading.Lock()


def strip_markup(text: str) -> str:
    """``text`` without HTML tags, and without the content of script and style blocks."""
    return _TAG.sub(" ", _CODE_BLOCK.sub(" ", text))


def words(text: str) -> list[str]:
    """Lowercase letter runs of a text (markup, e-mail addresses and links left out)."""
    return _WORD.findall(_NOT_LANGUAGE.sub(" ", strip_markup(text).lower()))


def _lingua() -> Any:
    """The process-wide lingua detector for German and English (built once, ~1 s)."""
    global _detector
    with _lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            _detector = LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH).build()
    return _detector


def statistical_logit(text: str) -> float:
    """log(P(de) / P(en)) from lingua's character models, clipped to ±6 (0 when it cannot tell)."""
    from lingua import Language

    values = {c.language: c.value for c in _lingua().compute_language_confidence_values(text)}
    de, en = values.get(Language.GERMAN, 0.0), values.get(Language.ENGLISH, 0.0)
    if de <= 0.0 and en <= 0.0:
        return 0.0
    if de <= 0.0 or en <= 0.0:
        return _MAX_LOGIT if de > en else -_MAX_LOGIT
    return max(-_MAX_LOGIT, min(_MAX_LOGIT, math.log(de / en)))


@dataclass(frozen=True)
class LanguageGuess:
    """The language of one message and whether the text itself settled it.

    Attributes:
        lang: ``de`` or ``en``.
        confident: False when the fallback (the page's language) decided.
        score: the evidence for German (positive) against English (negative).
    """

    lang: str
    confident: bool
    score: float


class LanguageGuesser:
    """Tells German from English; words that occur in only one language's kb texts count as evidence.

    Args:
        vocabularies: for each language, the words that occur only in that language's kb texts.
        vocabulary: every word of the kb's texts (never typing noise, see :mod:`bot.decision.content`).
        statistical: also use lingua's character models (False: word evidence only, no model to load).
        shared: words the kb uses in both languages (German terms in English answers: "Bürgeramt",
            "Wohnungsgeberbestätigung"); the character models ignore them, so "what is a
            Wohnungsgeberbestätigung" stays English.
    """

    def __init__(self, vocabularies: Dict[str, FrozenSet[str]], vocabulary: FrozenSet[str] = frozenset(),
                 statistical: bool = True, shared: FrozenSet[str] = frozenset()) -> None:
        self.vocabularies = vocabularies
        self.vocabulary = vocabulary
        self.statistical = statistical
        self.shared = shared

    @classmethod
    def from_texts(cls, texts: Dict[str, Iterable[str]], statistical: bool = True) -> "LanguageGuesser":
        """Build distinctive vocabularies from each language's texts."""
        seen = {lang: frozenset(w for t in items for w in words(t) if len(w) > 2) for lang, items in texts.items()}
        distinct = {
            lang: frozenset(vocab - frozenset().union(*(v for other, v in seen.items() if other != lang)))
            for lang, vocab in seen.items()
        }
        shared = frozenset.intersection(*seen.values()) if len(seen) > 1 else frozenset()
        return cls(distinct, frozenset().union(*seen.values()), statistical, shared)

    def word_evidence(self, text: str) -> float:
        """Function words (2 each), kb words of one language (1 each) and umlauts (2 each): German minus English."""
        tokens = words(text)
        scores = {lang: 0.0 for lang in LANGUAGES}
        for lang in LANGUAGES:
            scores[lang] += 2 * sum(t in FUNCTION_WORDS[lang] for t in tokens)
            scores[lang] += sum(t in self.vocabularies.get(lang, frozenset()) for t in tokens)
        scores["de"] += 2 * sum(ch in "äöüß" for ch in text.lower())
        return scores["de"] - scores["en"]

    def detect(self, text: str, fallback: str = "de") -> LanguageGuess:
        """The language of ``text``, or ``fallback`` (the page's language) when the text does not settle it."""
        score = EVIDENCE_WEIGHT * self.word_evidence(text)
        own = [w for w in words(text) if w not in self.shared]
        letters = sum(len(w) for w in own)
        if self.statistical and letters:
            score += statistical_logit(" ".join(own)) * min(1.0, letters / STATISTICAL_FULL_AT)
        if abs(score) >= CONFIDENT_AT:
            return LanguageGuess("de" if score > 0 else "en", True, score)
        return LanguageGuess(normalise_language(fallback), False, score)

    def guess(self, text: str, default: str = "de") -> str:
        """The more likely language of ``text``; ``default`` without enough evidence."""
        return self.detect(text, default).lang


def detect_language(text: str, default: str = "de") -> str:
    """Guess ``de`` or ``en`` from the text alone (no kb needed)."""
    return LanguageGuesser({}).guess(text, default)


def normalise_language(value: Optional[str], default: str = "de") -> str:
    """Map a browser/widget language tag such as ``de-DE`` or ``en`` to ``de``/``en``."""
    if value:
        primary = value.strip().lower().split("-")[0].split("_")[0]
        if primary in LANGUAGES:
            return primary
    return default
