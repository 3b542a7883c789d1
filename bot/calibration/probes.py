"""Labelled stand-ins for citizens' messages, made from the kb itself and a shipped off-topic set.

Three kinds, none written by the agency (a new kb has no dev set):

- **known**: each entry's title or listed question, asked with that phrasing left out of the index
  (:meth:`FaqIndex.held_out_scores`; a title that is its entry's only phrasing is asked of every entry's
  passages); its entry should be answered.
- **neighbour**: the same question with its whole entry left out: the index no longer covers it, so
  the best remaining entry is a sibling that must not be given as an answer. This is the kb's own
  "neighbouring service" (a question about a service close to others, but missing).
- **off-topic**: the shipped messages in :file:`offtopic.tsv` (weather, recipes, trivia), searched
  like a citizen's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from bot.retrieval.index import Candidate, FaqIndex

OFFTOPIC_FILE = Path(__file__).with_name("offtopic.tsv")
KNOWN, NEIGHBOUR, OFFTOPIC = "known", "neighbour", "offtopic"


@dataclass(frozen=True)
class Probe:
    """One stand-in message: its ranked candidates and what a right decision is.

    Attributes:
        kind: ``known``, ``neighbour`` or ``offtopic``.
        expected: the entry that answers it; empty when nothing in the index does.
        candidates: the ranked candidates, best first.
    """

    kind: str
    expected: Tuple[str, ...]
    candidates: Tuple[Candidate, ...]


def offtopic_messages(path: Path = OFFTOPIC_FILE) -> List[Tuple[str, str]]:
    """The shipped off-topic messages as (language, text) pairs.

    Raises:
        ValueError: a line is not ``language<TAB>text``; the message names the line.
    """
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        lang, sep, text = line.partition("\t")
        if not sep or lang not in ("de", "en") or not text.strip():
            raise ValueError(f"{path}:{number}: expected 'de|en<TAB>message', got {line!r}")
        pairs.append((lang, text.strip()))
    return pairs


def _ranked(index: FaqIndex, scores: np.ndarray, k: int) -> Tuple[Candidate, ...]:
    order = [int(i) for i in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[i])]
    return tuple(Candidate(index.records[i].id, float(scores[i]), index.records[i].title, "",
                           index.records[i].lang, index.records[i].source) for i in order)


def kb_probes(index: FaqIndex, per_entry: int = 2, max_entries: int = 400, k: int = 5,
              seed: int = 0) -> List[Probe]:
    """Known and neighbour probes from up to ``per_entry`` phrasings of up to ``max_entries`` entries.

    Raises:
        ValueError: ``per_entry``, ``max_entries`` or ``k`` is below 1.
    """
    for name, value in (("per_entry", per_entry), ("max_entries", max_entries), ("k", k)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if len(index.records) < 2:
        return []
    entries = np.arange(len(index.records))
    if len(entries) > max_entries:
        entries = np.sort(np.random.default_rng(seed).choice(entries, max_entries, replace=False))
    starts = np.searchsorted(index.owners, np.arange(len(index.records) + 1))
    probes: List[Probe] = []
    for entry in entries:
        record = index.records[int(entry)]
        for row in range(int(starts[entry]), min(int(starts[entry + 1]), int(starts[entry]) + per_entry)):
            scores = index.held_out_scores(row)
            probes.append(Probe(KNOWN, (record.id,), _ranked(index, scores, k)))
            scores[entry] = -np.inf
            probes.append(Probe(NEIGHBOUR, (), _ranked(index, scores, k)))
    return probes


def offtopic_probes(index: FaqIndex, vectors: np.ndarray, messages: Sequence[Tuple[str, str]],
                    k: int = 5) -> List[Probe]:
    """The off-topic messages (``vectors`` embedded from ``messages``) searched like citizens' messages.

    Messages in a language the kb has no entries in are left out (the bot would not search them there).

    Raises:
        ValueError: ``vectors`` and ``messages`` differ in length.
    """
    if len(vectors) != len(messages):
        raise ValueError(f"{len(vectors)} vectors for {len(messages)} off-topic messages")
    languages = {record.lang for record in index.records}
    return [Probe(OFFTOPIC, (), tuple(index.search(vector, k=k, lang=lang, text=text)))
            for (lang, text), vector in zip(messages, vectors, strict=True) if lang in languages]
