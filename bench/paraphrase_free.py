"""Issue 18, item 2: retrieval ideas for kbs whose entries have only a title and an answer, on dev splits only.

Every dataset's kb is embedded once (the bot's own index, cached); each variant rescores the
dev messages and reports top-1 (and recall@3). Variants that need more vectors (sentence
windows, other prompts) embed them once and keep them in ``.auskunft/bench-data/study-cache``.
Test files are never read.

    python bench/paraphrase_free.py                       # all datasets, the variants that embed nothing new
    python bench/paraphrase_free.py --datasets sample-titles --variants base,prf
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets.titles_only import titles_only_copy  # noqa: E402
from bot.config.settings import get_settings  # noqa: E402
from bot.evaluation.dataset import Example, load_examples  # noqa: E402
from bot.evaluation.report import MemoEncoder  # noqa: E402
from bot.evaluation.runner import rank_all  # noqa: E402
from bot.kb.chunking import passages  # noqa: E402
from bot.kb.loader import KnowledgeBase, load_kb  # noqa: E402
from bot.retrieval.adapter import AdapterConfig, normalise_rows  # noqa: E402
from bot.retrieval.builder import build_index, kb_profile  # noqa: E402
from bot.retrieval.cache import EmbeddingCache  # noqa: E402
from bot.retrieval.index import DEFAULT_ANSWER_WEIGHT, DEFAULT_LEXICAL_WEIGHT, FaqIndex  # noqa: E402
from bot.retrieval.lexical import LexicalScorer  # noqa: E402
from bot.retrieval.searcher import FaqSearcher  # noqa: E402

WORK = ROOT / ".auskunft" / "bench-data"
CITIES = ("muenchen", "lkaugsburg", "rems-murr-kreis")


def datasets() -> Dict[str, Tuple[Path, Path]]:
    """name -> (kb dir, dev file); the titles-only sample kb is made on first use."""
    found = {f"integreat-{c}": (WORK / "integreat" / c / "kb", WORK / "integreat" / c / "dev.jsonl") for c in CITIES}
    titles = WORK / "sample-titles" / "kb"
    if not titles.is_dir():
        titles_only_copy(ROOT / "kb", titles)
    found["sample"] = (ROOT / "kb", ROOT / "tests" / "data" / "sample_kb_dev.jsonl")
    found["sample-titles"] = (titles, ROOT / "tests" / "data" / "sample_kb_dev.jsonl")
    found["clinc10"] = (WORK / "clinc10" / "kb", WORK / "clinc10" / "dev.jsonl")
    return found


class Study(FaqIndex):
    """A :class:`FaqIndex` with experimental extra signals (sentence windows, feedback, another keyword text)."""

    extra: Optional[np.ndarray] = None
    extra_owners: Optional[np.ndarray] = None
    extra_weight: float = 0.0
    extra_mode: str = "add"  # add: a further signal; max: max with the passage signal
    prf: Tuple[int, float] = (0, 0.0)
    centroids: Optional[np.ndarray] = None

    def configure(self, extra: Optional[Tuple[np.ndarray, np.ndarray]] = None, extra_weight: float = 0.0,
                  extra_mode: str = "add", prf: Tuple[int, float] = (0, 0.0),
                  lexical_docs: Optional[List[str]] = None) -> "Study":
        """Set the experimental signals; returns self."""
        if extra is not None:
            vectors, owners = extra
            self.extra = vectors if self.adapter is None else normalise_rows(vectors @ self.adapter)
            self.extra_owners = owners
            self._extra_starts = np.searchsorted(owners, np.arange(len(self.records)))
        self.extra_weight, self.extra_mode, self.prf = extra_weight, extra_mode, prf
        if prf[0]:
            summed = np.zeros((len(self.records), self._mapped.shape[1]), dtype=np.float32)
            np.add.at(summed, self.owners, self._mapped)
            np.add.at(summed, self.answer_owners, self._mapped_answers)
            self.centroids = normalise_rows(summed)
        if lexical_docs is not None:
            self.lexical = LexicalScorer(lexical_docs, self._entry_lang.tolist())
        return self

    def _combined(self, query: np.ndarray, text: str, lang: str) -> Tuple[np.ndarray, np.ndarray, float]:
        sims = self._mapped @ query
        combined = np.maximum.reduceat(sims, self._starts)
        passage = np.maximum.reduceat(self._mapped_answers @ query, self._answer_starts)
        weight = 1.0 + self.answer_weight + self.lexical_weight
        if self.extra is not None and self.extra_weight:
            sentence = np.maximum.reduceat(self.extra @ query, self._extra_starts)
            if self.extra_mode == "max":
                passage = np.maximum(passage, sentence)
            else:
                combined = combined + self.extra_weight * sentence
                weight += self.extra_weight
        combined = combined + self.answer_weight * passage
        if self.lexical_weight and self.lexical is not None and text:
            combined = combined + self.lexical_weight * self.lexical.scores(text, lang)
        return combined, sims, weight

    def scores(self, query: np.ndarray, text: str = "", lang: str = "de") -> Tuple[np.ndarray, np.ndarray]:
        query = query.astype(np.float32)
        if self.adapter is not None:
            query = normalise_rows(query @ self.adapter)
        combined, sims, weight = self._combined(query, text, lang)
        k, beta = self.prf
        if k and self.centroids is not None:
            allowed = self._entry_lang == lang if np.any(self._entry_lang == lang) else np.ones(len(combined), bool)
            top = np.argsort(-np.where(allowed, combined, -np.inf))[:k]
            query = normalise_rows((query + beta * self.centroids[top].mean(axis=0))[None, :])[0]
            combined, sims, weight = self._combined(query, text, lang)
        return combined / weight, sims


def study(base: FaqIndex, **changes: object) -> Study:
    """A :class:`Study` over ``base``'s vectors; ``changes`` may set answer_weight, lexical_weight, adapter."""
    adapter = changes.pop("adapter", base.adapter)
    return Study(base.records, base.vectors, base.owners, base.answers, base.answer_owners, dict(base.meta),
                 float(changes.pop("answer_weight", base.answer_weight)),  # type: ignore[arg-type]
                 float(changes.pop("lexical_weight", base.lexical_weight)), adapter)  # type: ignore[arg-type]


def embed_cached(encoder: MemoEncoder, texts: List[str], passage: bool) -> np.ndarray:
    """Embed texts once per (model, prompt, texts); kept on disk."""
    key = hashlib.sha256(("\x1e".join(texts) + f"|{passage}").encode()).hexdigest()[:24]
    cache = EmbeddingCache(WORK / "study-cache", encoder.fingerprint)
    found = cache.get(key)
    if found is not None and found.shape[0] == len(texts):
        return found
    vectors = encoder.encode(texts, passage=passage) if passage else encoder._encoder.encode(texts)  # noqa: SLF001
    cache.put(key, vectors)
    return vectors


def windows(kb: KnowledgeBase, max_chars: int, with_title: bool) -> Tuple[List[str], np.ndarray]:
    """Small answer windows (sentences merged up to ``max_chars``) per entry, in entry order."""
    texts: List[str] = []
    owners: List[int] = []
    for position, entry in enumerate(kb.entries):
        parts = passages(entry.title, entry.answer, max_chars)
        for part in parts:
            texts.append(part if with_title else part.split("\n", 1)[-1])
            owners.append(position)
    return texts, np.array(owners, dtype=np.int64)


def top1(index: FaqIndex, encoder: MemoEncoder, dev: Sequence[Example]) -> Tuple[float, float]:
    """Top-1 and recall@3 over the in-scope dev messages."""
    ranked = rank_all(FaqSearcher(encoder, index=index), list(dev))
    scope = [(e, c) for e, c in ranked if e.expected]
    hits = [bool(c) and c[0].faq_id in e.expected for e, c in scope]
    within3 = [any(x.faq_id in e.expected for x in c[:3]) for e, c in scope]
    return float(np.mean(hits)), float(np.mean(within3))


Variant = Callable[[FaqIndex, KnowledgeBase, MemoEncoder], FaqIndex]


def _windows_variant(max_chars: int, with_title: bool, weight: float, mode: str) -> Variant:
    def make(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
        texts, owners = windows(kb, max_chars, with_title)
        return study(base).configure((embed_cached(encoder, texts, passage=True), owners), weight, mode)
    return make


def _prf_variant(k: int, beta: float, answer_weight: float = 2.0) -> Variant:
    return lambda base, kb, encoder: study(base, answer_weight=answer_weight).configure(prf=(k, beta))


def _lexical_variant(weight: float, text: str, answer_weight: Optional[float] = None) -> Variant:
    def make(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
        docs = {"all": None,
                "answer": [e.answer for e in kb.entries],
                "titles": [" ".join(e.phrasings) for e in kb.entries],
                "titles2": [" ".join((*e.phrasings, *e.phrasings, e.answer)) for e in kb.entries]}[text]
        answer = base.answer_weight if answer_weight is None else answer_weight
        return study(base, lexical_weight=weight, answer_weight=answer).configure(lexical_docs=docs)
    return make


THESAURUS = Path(os.environ.get("THESAURUS", "/usr/share/mythes/th_de_DE_v2.dat"))  # Debian mythes-de (LGPL)


def read_thesaurus(path: Path) -> Dict[str, List[str]]:
    """MyThes data: lower-cased headword -> its one-word synonyms (labels such as "(ugs.)" dropped)."""
    synonyms: Dict[str, List[str]] = {}
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    position = 0
    while position < len(lines):
        head, _, count = lines[position].partition("|")
        position += 1
        found: List[str] = []
        for line in lines[position : position + int(count or 0)]:
            found += [w.strip() for w in line.split("|")[1:] if " " not in w.strip() and "(" not in w]
        position += int(count or 0)
        if " " not in head:
            synonyms.setdefault(head.lower(), []).extend(w for w in found if w.lower() != head.lower())
    return synonyms


class Expanded(Study):
    """Keyword score over the query plus thesaurus synonyms that the kb uses (dense query unchanged)."""

    synonyms: Dict[str, List[str]] = {}
    per_word: int = 3

    def scores(self, query: np.ndarray, text: str = "", lang: str = "de") -> Tuple[np.ndarray, np.ndarray]:
        if text and self.lexical is not None and lang == "de":
            known = self.lexical.vocabulary
            extra = [s for w in text.lower().split() for s in
                     [x for x in self.synonyms.get(w.strip("?.,!"), []) if x.lower() in known][: self.per_word]]
            text = " ".join([text, *extra])
        return super().scores(query, text, lang)


def _thesaurus_variant(per_word: int, profile: bool = False) -> Variant:
    def make(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
        if profile:
            base = build_index(kb, encoder, EmbeddingCache(get_settings().cache_dir, encoder.fingerprint))
        if not Expanded.synonyms:
            Expanded.synonyms = read_thesaurus(THESAURUS)
        index = Expanded(base.records, base.vectors, base.owners, base.answers, base.answer_owners, dict(base.meta),
                         base.answer_weight, base.lexical_weight, base.adapter)
        index.per_word = per_word
        return index
    return make


def _prompt_variant(which: str) -> Variant:
    """``phrasings-passage``: phrasings embedded with the passage prompt; ``passages-query``: the reverse."""
    def make(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
        index = study(base)
        if which == "phrasings-passage":
            index.vectors = embed_cached(encoder, [p for e in kb.entries for p in e.phrasings], passage=True)
        else:
            index.answers = embed_cached(encoder, [p for e in kb.entries for p in passages(e.title, e.answer)],
                                         passage=False)
        return study(index)
    return make


def _title_adapter_variant(reg: float, epochs: int, reverse: bool = False, answer_weight: float = 2.0) -> Variant:
    """An adapter for kbs without paraphrases: titles pulled towards their own passages (or the reverse)."""
    from bot.retrieval.adapter import _Adam, _gradient  # noqa: PLC2701 - the study reuses the trainer's parts

    def make(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
        if base.adapter is not None:
            return study(base, answer_weight=answer_weight)  # trained on paraphrases: that adapter stays
        titles = base.vectors[base._starts]
        labels = np.arange(len(base.records))
        anchors, anchor_labels, targets, target_owners = titles, labels, base.answers, base.answer_owners
        if reverse:
            anchors, anchor_labels, targets, target_owners = base.answers, base.answer_owners, titles, labels
        weight = np.eye(titles.shape[1], dtype=np.float32)
        adam = _Adam(weight.shape, 1e-3)
        generator = np.random.default_rng(13)
        for _ in range(epochs):
            summed = np.zeros_like(titles)
            np.add.at(summed, target_owners, normalise_rows(targets @ weight))
            centroids = normalise_rows(summed)
            order = generator.permutation(len(anchors))
            for start in range(0, len(order), 64):
                rows = order[start : start + 64]
                gradient = _gradient(anchors[rows], anchor_labels[rows], weight, centroids, 20.0)
                weight = adam.step(weight, gradient + 2 * reg * (weight - np.eye(len(weight), dtype=np.float32)))
        return study(base, adapter=weight, answer_weight=answer_weight)
    return make


def _profile(base: FaqIndex, kb: KnowledgeBase, encoder: MemoEncoder) -> FaqIndex:
    """The index as the builder makes it now (profile by kb shape, bot/retrieval/profile.py), from the cache."""
    return build_index(kb, encoder, EmbeddingCache(get_settings().cache_dir, encoder.fingerprint))


VARIANTS: Dict[str, Variant] = {
    "base": lambda base, kb, encoder: base,
    "profile": _profile,
    "base-no-adapter": lambda base, kb, encoder: base.without_adapter(),
    "win200+t-add1": _windows_variant(200, True, 1.0, "add"),
    "win200+t-max": _windows_variant(200, True, 1.0, "max"),
    "win200-add1": _windows_variant(200, False, 1.0, "add"),
    "win200-max": _windows_variant(200, False, 1.0, "max"),
    "win120+t-add1": _windows_variant(120, True, 1.0, "add"),
    "win120+t-add2": _windows_variant(120, True, 2.0, "add"),
    "phrasings-passage": _prompt_variant("phrasings-passage"),
    "passages-query": _prompt_variant("passages-query"),
    "prf3-0.3": _prf_variant(3, 0.3),
    "prf5-0.5": _prf_variant(5, 0.5),
    "prf1-0.5": _prf_variant(1, 0.5),
    "aw3-prf1-0.3": _prf_variant(1, 0.3, 3.0),
    "tadapter-r0.1": _title_adapter_variant(0.1, 20),
    "tadapter-r1": _title_adapter_variant(1.0, 20),
    "tadapter-rev-r1": _title_adapter_variant(1.0, 20, reverse=True),
    "tadapter-rev-r3": _title_adapter_variant(3.0, 20, reverse=True),
    "aw3-tadapter-rev-r1": _title_adapter_variant(1.0, 20, reverse=True, answer_weight=3.0),
    "aw3-tadapter-r1": _title_adapter_variant(1.0, 20, answer_weight=3.0),
    "aw3-tadapter-rev-r0.3": _title_adapter_variant(0.3, 20, reverse=True, answer_weight=3.0),
    "aw3-tadapter-rev-r3": _title_adapter_variant(3.0, 20, reverse=True, answer_weight=3.0),
    "aw3-tadapter-rev-r1-e10": _title_adapter_variant(1.0, 10, reverse=True, answer_weight=3.0),
    "aw3-tadapter-rev-r1-e40": _title_adapter_variant(1.0, 40, reverse=True, answer_weight=3.0),
    "aw4-tadapter-rev-r1": _title_adapter_variant(1.0, 20, reverse=True, answer_weight=4.0),
    "thesaurus1": _thesaurus_variant(1),
    "thesaurus3": _thesaurus_variant(3),
    "profile-thesaurus1": _thesaurus_variant(1, profile=True),
    "lex0.5": _lexical_variant(0.5, "all"),
    "lex0.5-answer": _lexical_variant(0.5, "answer"),
    "lex1": _lexical_variant(1.0, "all"),
    "lex0.25-answer": _lexical_variant(0.25, "answer"),
    "lex1-answer": _lexical_variant(1.0, "answer"),
    "aw3": _lexical_variant(0.25, "all", 3.0),
    "aw3-lex0.5-answer": _lexical_variant(0.5, "answer", 3.0),
    "aw4-lex0.5-answer": _lexical_variant(0.5, "answer", 4.0),
    "aw3-lex0.75-answer": _lexical_variant(0.75, "answer", 3.0),
    "aw3-lex0.5": _lexical_variant(0.5, "all", 3.0),
    "aw4": _lexical_variant(0.25, "all", 4.0),
    "aw1": _lexical_variant(0.25, "all", 1.0),
    "aw3-lex0": _lexical_variant(0.0, "all", 3.0),
    "lex0.75-answer": _lexical_variant(0.75, "answer"),
    "lex0.25-titles2": _lexical_variant(0.25, "titles2"),
    "lex0.5-titles2": _lexical_variant(0.5, "titles2"),
}


EMBEDDING = ("win", "passages-query")  # variants that embed more texts (minutes per Integreat city on 2 cores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    found = datasets()
    parser.add_argument("--datasets", default=",".join(found), help=f"of {', '.join(found)}")
    cheap = [v for v in VARIANTS if not v.startswith(EMBEDDING)]
    parser.add_argument("--variants", default=",".join(cheap), help=f"of {', '.join(VARIANTS)} (default: those that "
                        "embed nothing new)")
    args = parser.parse_args()
    settings = get_settings()
    from bot.embedding.encoder import shared_encoder

    encoder = MemoEncoder(shared_encoder(settings.model_name, settings.encoder_threads))
    names = args.variants.split(",")
    table: Dict[str, Dict[str, Tuple[float, float]]] = {}
    for name in args.datasets.split(","):
        kb_dir, dev_file = found[name]
        started = time.perf_counter()
        kb = load_kb(kb_dir)
        base = build_index(kb, encoder, EmbeddingCache(settings.cache_dir, encoder.fingerprint),
                           answer_weight=DEFAULT_ANSWER_WEIGHT, lexical_weight=DEFAULT_LEXICAL_WEIGHT,
                           adapter=None if kb_profile(kb).title_adapter else AdapterConfig())  # before issue 18
        dev = load_examples(dev_file)
        for variant in names:
            table.setdefault(variant, {})[name] = top1(VARIANTS[variant](base, kb, encoder), encoder, dev)
            t1, r3 = table[variant][name]
            print(f"{name:<26} {variant:<20} top1 {t1:.3f}  r@3 {r3:.3f}  ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    chosen = args.datasets.split(",")
    cities = [n for n in chosen if n.startswith("integreat-")]
    print("\n| variant | Integreat mean | " + " | ".join(chosen) + " |")
    print("|---|---|" + "---|" * len(chosen))
    for variant in names:
        row = table[variant]
        mean = np.mean([row[c][0] for c in cities]) if cities else float("nan")
        print(f"| {variant} | {mean:.3f} | " + " | ".join(f"{row[n][0]:.3f}" for n in chosen) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
