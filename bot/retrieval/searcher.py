"""Query the live FAQ index: text in, ranked candidates out (used by the bot, the CLI and eval)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from bot.language import normalise_language
from bot.retrieval.index import Candidate, FaqIndex
from bot.retrieval.store import IndexStore


@dataclass(frozen=True)
class SearchResult:
    """Candidates for one message, with the language and index version used."""

    candidates: List[Candidate]
    lang: str
    index_version: str
    extra: Dict[str, object] = field(default_factory=dict)
    vector: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    best_phrasing: float = 0.0
    encoder: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready form, as attached to Rasa's parse result."""
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "lang": self.lang,
            "index_version": self.index_version,
            **self.extra,
        }


class FaqSearcher:
    """Embeds a message and ranks FAQ entries in the live index.

    Args:
        encoder: anything with ``encode_one(text) -> vector``.
        store: the published index versions (followed on every call), or
        index: a fixed index (tests, evaluation, the training snapshot).
        default_language: used when a message gives no language evidence.
        top_k: how many candidates to return.
        load_encoder: loads the model an index names in ``meta["query_model"]`` (an index
            built with a model fine-tuned on the kb); questions are then embedded with it.

    Raises:
        ValueError: neither or both of ``store`` and ``index`` are given, or ``top_k`` < 1.
    """

    def __init__(
        self,
        encoder: object,
        store: Optional[IndexStore] = None,
        index: Optional[FaqIndex] = None,
        default_language: str = "de",
        top_k: int = 5,
        load_encoder: Optional[Callable[[str], object]] = None,
    ) -> None:
        if (store is None) == (index is None):
            raise ValueError("give exactly one of store= (live index) or index= (fixed index)")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        self.encoder = encoder
        self.store = store
        self._index = index
        self.default_language = default_language
        self.top_k = top_k
        self._load_encoder = load_encoder

    def index(self) -> FaqIndex:
        """The index in use now (the newest published one, for a live searcher)."""
        return self.store.current() if self.store is not None else self._index  # type: ignore[return-value]

    def encoder_for(self, index: FaqIndex) -> object:
        """The encoder whose space ``index`` lives in.

        Raises:
            ValueError: the index names a fine-tuned model and this searcher cannot load models.
        """
        model = index.meta.get("query_model")
        if not model or model == getattr(self.encoder, "name", None):
            return self.encoder
        if self._load_encoder is None:
            raise ValueError(f"index {index.version} needs the fine-tuned model {model}; pass load_encoder=")
        return self._load_encoder(str(model))

    def language_of(self, text: str, hint: Optional[str] = None) -> str:
        """The language to search in: an explicit hint wins, then evidence in the text."""
        if hint:
            return normalise_language(hint, self.default_language)
        return self.index().languages.guess(text, self.default_language)

    def search(self, text: str, lang_hint: Optional[str] = None) -> SearchResult:
        """Rank FAQ entries for ``text``."""
        index = self.index()
        lang = self.language_of(text, lang_hint)
        encoder = self.encoder_for(index)
        vector = encoder.encode_one(text)  # type: ignore[attr-defined]
        candidates, best_phrasing = index.search_with_best(vector, k=self.top_k, lang=lang, text=text)
        return SearchResult(candidates, lang, index.version, vector=vector, best_phrasing=best_phrasing,
                            encoder=encoder)

    def search_many(self, texts: List[str], langs: List[str]) -> List[Tuple[List[Candidate], str]]:
        """Batch form for evaluation: same ranking, batched embedding."""
        index = self.index()
        vectors = self.encoder_for(index).encode(texts)  # type: ignore[attr-defined]
        return [(index.search(v, k=self.top_k, lang=lang, text=text), lang)
                for v, lang, text in zip(vectors, langs, texts, strict=True)]
