"""Keyword scoring for the hybrid index: BM25 over stems and compound parts, scaled to [0, 1].

Dense embeddings miss rare exact words (a form number, "Angelschein") that keyword
search gets right; this scorer adds that evidence. The BM25 score of an entry is divided
by the summed IDF of the query's content words, so it reads as "how much of what the
citizen wrote this entry covers": words the kb never uses (a topic it does not cover)
lower it for every entry, which helps escalation.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Dict, FrozenSet, List, Sequence, Tuple

import numpy as np
from scipy import sparse

from bot.retrieval.stemming import MIN_PART, terms, words

K1 = 1.2
B = 0.75

STOPWORDS: Dict[str, FrozenSet[str]] = {
    "de": frozenset(
        "aber alle allem allen aller als also am an auch auf aus bei bin bis bitte bist da damit dann das dass "
        "dem den denn der des die dies diese diesem diesen dieser dich dir du durch ein eine einem einen einer "
        "eines er es etwas euch für gibt hab habe haben hallo hat hier ich ihr im in ist ja jetzt kann kein keine "
        "man mein meine meinem meinen meiner mich mir mit muss möchte nach nicht noch nun nur ob oder sein sich "
        "sie sind so soll um und uns unser von vom vor war was welche welchem welchen welcher welches wenn wer "
        "werde werden wie wieso wo woher wohin will wir wird zu zum zur".split()
    ),
    "en": frozenset(
        "a about am an and any are as at be been but by can could do does for from get have hello hi how i if in "
        "is it me my need of on or please should so than that the there this to was we what when where which "
        "who why will with would you your".split()
    ),
}


class LexicalScorer:
    """BM25 over each entry's text, normalised per query.

    Args:
        documents: one text per entry (its phrasings and answer).
        languages: the language of each entry (``de`` stems with CISTEM and splits compounds).

    Raises:
        ValueError: the two sequences differ in length.
    """

    def __init__(self, documents: Sequence[str], languages: Sequence[str]) -> None:
        if len(documents) != len(languages):
            raise ValueError(f"{len(documents)} documents but {len(languages)} languages")
        self.vocabulary: FrozenSet[str] = frozenset(
            w for text in documents for w in words(text) if len(w) >= MIN_PART
        )
        doc_terms = [self._content(terms(text, lang, self.vocabulary), lang)
                     for text, lang in zip(documents, languages, strict=True)]
        self._columns: Dict[str, int] = {}
        rows: List[int] = []
        cols: List[int] = []
        counts: List[float] = []
        for row, doc in enumerate(doc_terms):
            for term, count in Counter(doc).items():
                rows.append(row)
                cols.append(self._columns.setdefault(term, len(self._columns)))
                counts.append(count)
        n_docs = max(len(documents), 1)
        tf = sparse.csr_matrix((counts, (rows, cols)), shape=(len(documents), len(self._columns)), dtype=np.float64)
        df = np.bincount(cols, minlength=len(self._columns)).astype(np.float64)
        self._idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        self._unknown_idf = math.log1p((n_docs + 0.5) / 0.5)
        lengths = np.array([len(d) for d in doc_terms], dtype=np.float64)
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if len(lengths) else 1.0, 1.0))
        tf = tf.tocoo()
        weights = self._idf[tf.col] * tf.data * (K1 + 1) / (tf.data + norm[tf.row])
        self._weights = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=tf.shape)

    @staticmethod
    def _content(tokens: List[str], lang: str) -> List[str]:
        stop = STOPWORDS.get(lang, frozenset())
        return [t for t in tokens if t not in stop and len(t) > 1]

    def query_terms(self, text: str, lang: str) -> List[str]:
        """The distinct content terms of a query, as the scorer sees them."""
        raw = [w for w in words(text) if w not in STOPWORDS.get(lang, frozenset())]
        return list(dict.fromkeys(self._content(terms(" ".join(raw), lang, self.vocabulary), lang)))

    def scores(self, text: str, lang: str) -> np.ndarray:
        """One score in [0, 1] per entry: BM25 divided by the query's summed term IDF."""
        known: List[int] = []
        total = 0.0
        for term in self.query_terms(text, lang):
            column = self._columns.get(term)
            if column is None:
                total += self._unknown_idf
            else:
                known.append(column)
                total += float(self._idf[column])
        if not known or total <= 0:
            return np.zeros(self._weights.shape[0], dtype=np.float32)
        raw = np.asarray(self._weights[:, known].sum(axis=1)).ravel()
        return np.minimum(raw / total, 1.0).astype(np.float32)

    def explain(self, text: str, lang: str) -> Tuple[List[str], List[str]]:
        """The query's terms the kb knows and those it does not (for editors' tools and debugging)."""
        query = self.query_terms(text, lang)
        return [t for t in query if t in self._columns], [t for t in query if t not in self._columns]
