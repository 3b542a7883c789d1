"""The editorial checks of ``auskunft kb check``, one function per kind of problem.

Each check looks at one valid entry (see :class:`bot.kb.loader.ParsedEntry`) and returns
:class:`Finding` objects; the texts come from :data:`bot.kb.messages.MESSAGES`.
Nothing here touches the network.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, List, Mapping, Optional, Sequence

from bot.kb.errors import KbIssue
from bot.kb.i18n import render
from bot.kb.links import find_links, link_problem
from bot.kb.loader import ParsedEntry
from bot.kb.placeholders import find_placeholders
from bot.kb.readability import flesch, split_sentences, text_blocks, words_of

SEVERITIES = ("error", "warning", "info")
CHAT_ANSWER_CHARS = 1200
PARAGRAPH_CHARS = 600
SENTENCE_WORDS = 30
HARD_TO_READ = 30.0
PLAIN_TARGET = 60.0
LINK_ERRORS = {"link_empty", "link_javascript", "link_malformed"}


@dataclass(frozen=True)
class Finding:
    """One thing an editor should fix or look at.

    Attributes:
        severity: ``error`` (the kb is rejected), ``warning`` (should be fixed) or ``info``.
        path: the file relative to the kb root; empty for the kb as a whole.
        line: the 1-based line (0: the whole file or kb).
        field: the front-matter field, ``answer`` for the body, or None.
        code: the key into :data:`bot.kb.messages.MESSAGES`.
        params: values for the message's placeholders.
        owner: the department responsible for the entry, if known.
        fallback: an English text for codes without translation.
    """

    severity: str
    path: str
    line: int
    field: Optional[str]
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    owner: str = ""
    fallback: str = dataclasses.field(default="", compare=False)

    def message(self, lang: str) -> str:
        """What is wrong, in ``lang`` (``de`` or ``en``)."""
        return render(self.code, lang, self.params, self.fallback)[0]

    def hint(self, lang: str) -> str:
        """What to do next, in ``lang``."""
        return render(self.code, lang, self.params, self.fallback)[1]


def from_issue(issue: KbIssue) -> Finding:
    """A loader problem as an error finding (the kb as a whole gets an empty path)."""
    whole_kb = issue.code in ("kb_missing", "kb_empty")
    return Finding("error", "" if whole_kb else issue.path, issue.line, issue.field, issue.code or "loader",
                   issue.params, fallback=issue.message)


def check_entry(item: ParsedEntry, known_tags: Optional[Sequence[str]], today: date) -> List[Finding]:
    """Every editorial check for one entry.

    Args:
        item: the parsed entry with its line numbers.
        known_tags: the tag vocabulary, or None to skip the tag check.
        today: the date overdue reviews are measured against.
    """
    found = [*check_placeholders(item), *check_links(item), *check_review(item, today), *check_length(item),
             *check_plain_language(item), *check_test_questions(item)]
    if known_tags is not None:
        found += check_tags(item, known_tags)
    return found


def _finding(item: ParsedEntry, severity: str, line: int, where: Optional[str], code: str,
             **params: Any) -> Finding:
    return Finding(severity, item.entry.path, line, where, code, params, item.entry.owner)


def check_placeholders(item: ParsedEntry) -> List[Finding]:
    """Placeholder text (``[Platzhalter]``, ``TODO``, ``example.com`` …) in what citizens see: errors.

    Looks at the answer (the line of each placeholder), the plain version, the title, the phrasings and the source
    (see :mod:`bot.kb.placeholders`); test questions are never shown, so they are left alone.
    """
    entry = item.entry
    found: List[Finding] = []
    for mark in find_placeholders(item.body):
        found.append(_finding(item, "error", item.body_line + mark.line_in(item.body), "answer", "placeholder",
                              text=mark.text))
    question_lines = item.item_lines.get("questions", [])
    texts = [("title", item.lines.get("title", 2), entry.title),
             ("plain", item.lines.get("plain", 2), entry.plain or ""),
             ("source", item.lines.get("source", 2), entry.source)]
    texts += [("questions", question_lines[i] if i < len(question_lines) else item.lines.get("questions", 2), q)
              for i, q in enumerate(entry.questions)]
    for where, line, text in texts:
        found += [_finding(item, "error", line, where, "placeholder", text=mark.text)
                  for mark in find_placeholders(text)]
    return found


def check_links(item: ParsedEntry) -> List[Finding]:
    """Malformed, empty, ``javascript:`` and plain-http links in answer, plain version and source."""
    found: List[Finding] = []
    for link in find_links(item.body):
        code = link_problem(link.url)
        if code:
            line = item.body_line + item.body[: link.offset].count("\n")
            severity = "error" if code in LINK_ERRORS else "warning"
            found.append(_finding(item, severity, line, "answer", code, url=link.url, text=link.text))
    plain_line = item.lines.get("plain", 2)
    for link in find_links(item.entry.plain or ""):
        code = link_problem(link.url)
        if code:
            severity = "error" if code in LINK_ERRORS else "warning"
            found.append(_finding(item, severity, plain_line, "plain", code, url=link.url, text=link.text))
    if item.entry.source.lower().startswith("http://"):
        found.append(_finding(item, "warning", item.lines.get("source", 2), "source", "source_http",
                              url=item.entry.source))
    return found


def check_tags(item: ParsedEntry, known_tags: Sequence[str]) -> List[Finding]:
    """Tags missing from the vocabulary, each with the closest known tag if there is one."""
    known = set(known_tags)
    item_lines = item.item_lines.get("tags", [])
    found: List[Finding] = []
    for index, tag in enumerate(item.entry.tags):
        if tag in known:
            continue
        line = item_lines[index] if index < len(item_lines) else item.lines.get("tags", 2)
        close = difflib.get_close_matches(tag, known_tags, n=1, cutoff=0.6)
        if close:
            found.append(_finding(item, "warning", line, "tags", "tag_unknown", tag=tag, suggestion=close[0]))
        else:
            found.append(_finding(item, "warning", line, "tags", "tag_unknown_no_match", tag=tag))
    return found


def check_review(item: ParsedEntry, today: date) -> List[Finding]:
    """A ``review_by`` date in the past (warning) or none at all (info)."""
    review_by = item.entry.review_by
    if review_by is None:
        return [_finding(item, "info", item.lines.get("updated", 2), "review_by", "review_missing")]
    if review_by < today:
        days = (today - review_by).days
        return [_finding(item, "warning", item.lines.get("review_by", 2), "review_by", "review_overdue",
                         days=days, date=review_by)]
    return []


def check_length(item: ParsedEntry) -> List[Finding]:
    """Answers too long for a chat bubble, and very long paragraphs and sentences."""
    found: List[Finding] = []
    chars = len(item.entry.answer)
    if chars > CHAT_ANSWER_CHARS:
        found.append(_finding(item, "warning", item.body_line, "answer", "answer_too_long",
                              chars=chars, max=CHAT_ANSWER_CHARS))
    for offset, block in text_blocks(item.body):
        line = item.body_line + offset
        if len(block) > PARAGRAPH_CHARS:
            found.append(_finding(item, "warning", line, "answer", "paragraph_too_long",
                                  chars=len(block), max=PARAGRAPH_CHARS))
        for sentence in split_sentences(block):
            words = len(words_of(sentence))
            if words > SENTENCE_WORDS:
                found.append(_finding(item, "warning", line, "answer", "sentence_too_long",
                                      words=words, max=SENTENCE_WORDS, start=_first_words(sentence, 6)))
    return found


def _first_words(sentence: str, count: int) -> str:
    return " ".join(sentence.split()[:count])


def check_plain_language(item: ParsedEntry) -> List[Finding]:
    """A missing plain version, a very hard answer (FRE < 30), a plain version below FRE 60."""
    entry = item.entry
    found: List[Finding] = []
    score = flesch(entry.answer, entry.lang).score
    if score is not None and score < HARD_TO_READ:
        found.append(_finding(item, "warning", item.body_line, "answer", "hard_to_read",
                              score=round(score, 1), min=int(HARD_TO_READ)))
    if entry.plain is None:
        found.append(_finding(item, "warning", max(item.body_line - 1, 1), "plain", "plain_missing"))
        return found
    plain_score = flesch(entry.plain, entry.lang).score
    if plain_score is not None and plain_score < PLAIN_TARGET:
        found.append(_finding(item, "warning", item.lines.get("plain", 2), "plain", "plain_hard_to_read",
                              score=round(plain_score, 1), min=int(PLAIN_TARGET)))
    return found


def check_test_questions(item: ParsedEntry) -> List[Finding]:
    """Test questions that repeat the title or a phrasing: the index has seen them, so they test nothing."""
    seen = {_normal(text) for text in item.entry.phrasings}
    item_lines = item.item_lines.get("tests", [])
    found: List[Finding] = []
    for index, question in enumerate(item.entry.tests):
        if _normal(question) in seen:
            line = item_lines[index] if index < len(item_lines) else item.lines.get("tests", 2)
            found.append(_finding(item, "warning", line, "tests", "test_is_phrasing", question=question))
    return found


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("?", " ").split())


def severity_rank(severity: str) -> int:
    """Errors first, then warnings, then infos."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def count(findings: Iterable[Finding], severity: str) -> int:
    """How many findings have this severity."""
    return sum(1 for finding in findings if finding.severity == severity)
