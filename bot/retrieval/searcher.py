"""Query the live FAQ index: text in, ranked candidates out (used by the bot, the CLI and eval)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from bot.retrieval.index import Candidate, FaqIndex
from bot.retrieval.language import LanguageGuess, normalise_language
from bot.retrieval.store import IndexStore


@dataclass(frozen=True)
class SearchResult:
    """Candidates for one message, with the language and index version used.

    ``lang_confident`` is False when the page's language decided (the text did not settle it).
    """

    candidates: List[Candidate]
    lang: str
    index_version: str
    extra: Dict[str, object] = field(default_factory=dict)
    vector: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    best_phrasing: float = 0.0
    encoder: object = field(default=None, repr=False, compare=False)
    lang_confident: bool = True

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready form, as attached to Rasa's parse result."""
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "lang": self.lang,
            "lang_confident": self.lang_confident,
            "index_version": self.index_version,
            "best_phrasing": round(self.best_phrasing, 4),
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

    def detect_language(self, text: str, page_lang: Optional[str] = None) -> LanguageGuess:
        """The message's own language; the page's (else the default) when the text does not settle it."""
        fallback = normalise_language(page_lang, self.default_language)
        return self.index().languages.detect(text, fallback)

    def language_of(self, text: str, page_lang: Optional[str] = None) -> str:
        """The language to search and reply in (see :meth:`detect_language`)."""
        return self.detect_language(text, page_lang).lang

    def search(self, text: str, lang_hint: Optional[str] = None, forced_lang: Optional[str] = None,
               vector: Optional[np.ndarray] = None, vector_model: Optional[str] = None) -> SearchResult:
        """Rank FAQ entries for ``text``.

        Args:
            text: the message.
            lang_hint: the page's language, used when the text does not settle its language.
            forced_lang: search in this language whatever the text says (evaluation with labels).
            vector: ``text`` already embedded (by the web service, batched with other messages); used only if
                ``vector_model`` is the fingerprint of the encoder the current index needs, else ignored.
            vector_model: the fingerprint of the encoder that made ``vector``.
        """
        if vector is not None:
            index = self.index()
            encoder = self.encoder_for(index)
            if vector_model is not None and vector_model == getattr(encoder, "fingerprint", None):
                return self._rank_one(index, encoder, text, np.asarray(vector, dtype=np.float32), lang_hint,
                                      forced_lang)
        return self.search_many([text], [lang_hint], forced_lang=[forced_lang])[0]

    def search_many(self, texts: List[str], page_langs: Optional[List[Optional[str]]] = None,
                    forced_lang: Optional[List[Optional[str]]] = None) -> List[SearchResult]:
        """Rank FAQ entries for several messages: the same ranking as :meth:`search`, batched embedding."""
        index = self.index()
        encoder = self.encoder_for(index)
        vectors = encoder.encode(texts) if len(texts) > 1 else [encoder.encode_one(texts[0])]  # type: ignore[attr-defined]
        page_langs = page_langs or [None] * len(texts)
        forced_lang = forced_lang or [None] * len(texts)
        return [self._rank_one(index, encoder, text, vector, page, forced)
                for text, vector, page, forced in zip(texts, vectors, page_langs, forced_lang, strict=True)]

    def _rank_one(self, index: FaqIndex, encoder: object, text: str, vector: np.ndarray, page: Optional[str],
                  forced: Optional[str]) -> SearchResult:
        guess = (LanguageGuess(normalise_language(forced), True, 0.0) if forced
                 else index.languages.detect(text, normalise_language(page, self.default_language)))
        candidates, best = index.search_with_best(vector, k=self.top_k, lang=guess.lang, text=text)
        return SearchResult(candidates, guess.lang, index.version, vector=vector, best_phrasing=best,
                            encoder=encoder, lang_confident=guess.confident)
