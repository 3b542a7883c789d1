"""Flesch reading ease for German (Amstad) and English answers, computed from markdown.

German: ``FRE = 180 - ASL - 58.5 * ASW`` (Amstad 1978); English: ``FRE = 206.835 -
1.015 * ASL - 84.6 * ASW`` (Flesch 1948). ``ASL`` is words per sentence, ``ASW``
syllables per word. Higher is easier: below 30 is very hard (academic prose), 60 and
above is plain language that most adults read without effort.

Counting rules (simple, so an editor can recount by hand):

- markdown is stripped first: ``[text](url)`` becomes ``text``, emphasis, headings and
  list bullets disappear, and every list item counts as a sentence of its own;
- sentences end at ``.``, ``!`` or ``?`` followed by a capital letter (or the end), unless
  the word before the dot is an abbreviation (``z. B.``, ``Nr.``) or a number (``1. Mai``);
- a word is a run of letters (hyphenated words count once; bare numbers are not words);
- German syllables: each vowel nucleus counts once: a single vowel (a e i o u ä ö ü y) or
  one of the pairs ei ie eu äu au ai aa ee oo; the u in ``qu`` is no vowel;
- English syllables: each run of vowels (a e i o u y) counts once, minus a silent final
  ``e`` (but not ``-le`` after a consonant);
- every word has at least one syllable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^>]*>")
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
HEADING = re.compile(r"^\s*#{1,6}\s+")
EMPHASIS = re.compile(r"[*_`~]+|^\s*>\s?")
BRACKETS = re.compile(r"[\[\]]")
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
SENTENCE_END = re.compile(r"([.!?]+)\s+(?=[\"„“(]?[A-ZÄÖÜ])")
ABBREVIATIONS = frozenset(
    "bzw ca dr evtl ggf inkl max min mind nr str tel usw vgl etc abs art bspw geb hr fr sog "
    "e.g i.e approx incl no mr mrs ms st vs".split()
)
GERMAN_VOWELS = "aeiouyäöü"
GERMAN_PAIRS = ("ei", "ie", "eu", "äu", "au", "ai", "aa", "ee", "oo")
ENGLISH_VOWEL_RUN = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Readability:
    """Counts and score of one text.

    Attributes:
        sentences: number of sentences (list items included).
        words: number of words.
        syllables: number of syllables.
        score: Flesch reading ease, None for a text without words.
    """

    sentences: int
    words: int
    syllables: int
    score: Optional[float]

    @property
    def words_per_sentence(self) -> float:
        """ASL: the average sentence length in words."""
        return self.words / self.sentences if self.sentences else 0.0


def text_blocks(markdown: str) -> List[Tuple[int, str]]:
    """Markdown as plain text blocks with markup removed.

    Args:
        markdown: the text.

    Returns:
        ``(line, text)`` per paragraph, list item or heading; ``line`` is the 0-based
        line in ``markdown`` where the block starts.
    """
    blocks: List[Tuple[int, str]] = []
    current: List[str] = []
    start = 0
    for number, raw in enumerate(markdown.splitlines()):
        if not raw.strip():
            _flush(blocks, current, start)
            continue
        line = AUTOLINK.sub("", LINK.sub(r"\1", raw))
        if BULLET.match(line) or HEADING.match(line):
            _flush(blocks, current, start)
            blocks.append((number, HEADING.sub("", BULLET.sub("", line))))
            continue
        if not current:
            start = number
        current.append(line)
    _flush(blocks, current, start)
    cleaned = ((line, BRACKETS.sub("", EMPHASIS.sub("", text)).strip()) for line, text in blocks)
    return [(line, text) for line, text in cleaned if text]


def plain_text_blocks(markdown: str) -> List[str]:
    """Markdown as plain text: one string per paragraph or list item, markup removed."""
    return [text for _, text in text_blocks(markdown)]


def _flush(blocks: List[Tuple[int, str]], current: List[str], start: int) -> None:
    if current:
        blocks.append((start, " ".join(part.strip() for part in current)))
        current.clear()


def split_sentences(text: str) -> List[str]:
    """Split one paragraph into sentences (see the module docstring for the rules)."""
    sentences: List[str] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if match.group(1) == "." and (last in ABBREVIATIONS or last.isdigit() or len(last) == 1):
            continue
        sentences.append(text[start : match.end(1)].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [sentence for sentence in sentences if WORD.search(sentence)]


def sentences_of(markdown: str) -> List[str]:
    """All sentences of a markdown text; list items and headings are sentences of their own."""
    return [sentence for block in plain_text_blocks(markdown) for sentence in split_sentences(block)]


def words_of(text: str) -> List[str]:
    """The words of a text (letter runs; numbers are not words)."""
    return WORD.findall(text)


def german_syllables(word: str) -> int:
    """Syllables of a German word: vowel nuclei, common diphthongs and double vowels counted once."""
    text = word.lower().replace("qu", "q")
    count, index = 0, 0
    while index < len(text):
        if text[index] in GERMAN_VOWELS:
            count += 1
            index += 2 if text[index : index + 2] in GERMAN_PAIRS else 1
        else:
            index += 1
    return max(count, 1)


def english_syllables(word: str) -> int:
    """Syllables of an English word: vowel runs, minus a silent final ``e``."""
    text = word.lower()
    count = len(ENGLISH_VOWEL_RUN.findall(text))
    if text.endswith("e") and count > 1 and not (text.endswith("le") and len(text) > 2 and text[-3] not in "aeiouy"):
        count -= 1
    return max(count, 1)


def flesch(markdown: str, lang: str = "de") -> Readability:
    """Flesch reading ease of a markdown text.

    Args:
        markdown: the text; markdown is stripped before counting.
        lang: ``de`` for Amstad's German formula, ``en`` for Flesch's original.

    Returns:
        The counts and the score (None when the text has no words).
    """
    sentences = sentences_of(markdown)
    words = [word for sentence in sentences for part in words_of(sentence) for word in part.split("-") if word]
    # a hyphenated word is one word whose syllables are those of its parts
    word_count = sum(len(words_of(sentence)) for sentence in sentences)
    count = german_syllables if lang == "de" else english_syllables
    syllables = sum(count(word) for word in words)
    if not word_count:
        return Readability(len(sentences), 0, 0, None)
    asl = word_count / len(sentences)
    asw = syllables / word_count
    score = 180 - asl - 58.5 * asw if lang == "de" else 206.835 - 1.015 * asl - 84.6 * asw
    return Readability(len(sentences), word_count, syllables, score)
