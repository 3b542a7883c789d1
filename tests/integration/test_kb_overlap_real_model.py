"""The editors' overlap report with the real model on the sample kb: no false alarms, planted problems found."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
import yaml

from bot.decision import DecisionConfig
from bot.editor.overlap import OverlapReport, find_overlaps, render_report, run_overlap
from bot.embedding.encoder import shared_encoder
from bot.embedding.st_encoder import Encoder
from bot.kb import load_kb
from bot.retrieval.builder import build_index
from bot.retrieval.cache import EmbeddingCache

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
# Three entries copied under new ids with lightly reworded title and questions; the answer stays the same.
COPIES: Dict[str, Tuple[str, str, List[str]]] = {
    "buergeramt/reisepass-beantragen.md": (
        "reisepass-neu-beantragen", "Wie beantrage ich einen neuen Reisepass?",
        ["Was kostet ein Reisepass?", "Wie lange dauert es, bis der Pass fertig ist?",
         "Unterlagen für den Reisepass-Antrag"]),
    "abfall/sperrmuell-anmelden.md": (
        "sperrmuell-abholen-lassen", "Wie melde ich meinen Sperrmüll zur Abholung an?",
        ["Wie bekomme ich einen Termin zur Sperrmüllabholung?", "Holt die Stadt mein altes Sofa kostenlos ab?",
         "Was kostet es, Sperrmüll abholen zu lassen?"]),
    "wohngeld/wohnberechtigungsschein.md": (
        "wbs-beantragen", "Wie bekomme ich den Wohnberechtigungsschein (WBS)?",
        ["Wofür brauche ich den WBS?", "Wie hoch ist die Einkommensgrenze für einen Wohnberechtigungsschein?",
         "Wie lange ist der WBS gültig?"]),
}
MOVED = "Steht mir Finderlohn zu?"  # from fundbuero into hundesteuer-anmelden


def rewrite(path: Path, change: Callable[[dict], None]) -> str:
    """The entry file's text with its front matter changed."""
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(front)
    change(meta)
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def model(real_model: Path) -> Encoder:
    return shared_encoder(str(real_model), 1)


def overlaps(kb: Path, model: Encoder, home: Path) -> OverlapReport:
    """Build like 'auskunft kb build' (same builder, adapter, weights, cache) and check every phrasing."""
    loaded = load_kb(kb)
    index = build_index(loaded, model, EmbeddingCache(home / "embedding-cache", model.fingerprint))
    return find_overlaps(index, model, DecisionConfig(), loaded)


@pytest.fixture(scope="module")
def sample_report(model: Encoder, home: Path, tmp_path_factory: pytest.TempPathFactory) -> OverlapReport:
    kb = tmp_path_factory.mktemp("sample") / "kb"
    shutil.copytree(ROOT / "kb", kb)
    return overlaps(kb, model, home)


@pytest.fixture(scope="module")
def planted_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("planted") / "kb"
    shutil.copytree(ROOT / "kb", kb)
    for relative, (new_id, title, questions) in COPIES.items():
        def reword(meta: dict, new_id: str = new_id, title: str = title, questions: List[str] = questions) -> None:
            meta.update(id=new_id, title=title, questions=questions)

        (kb / relative).with_name(f"{new_id}.md").write_text(rewrite(kb / relative, reword), encoding="utf-8")
    return kb


def test_the_sample_kb_has_no_near_duplicates(sample_report: OverlapReport) -> None:
    report = sample_report
    print("\n" + render_report(report))
    assert len(report.entries) == len(load_kb(ROOT / "kb").entries) and report.unchecked == []
    assert len(report.checks) == report.phrasings
    assert report.pairs == []  # German and English versions of an entry are never compared
    # Asked as if they were not in the kb (adapter retrained without them), about one phrasing in ten lands on a
    # neighbouring entry (51 of 532 when written), e.g. "Kann ich mich online anmelden?" on the online car
    # registration: the bot knows these questions only word for word. A broken hold-out would give 0 or hundreds.
    assert 0 < len(report.misrouted) <= 0.15 * len(report.checks)
    assert len(report.not_answered) <= 0.15 * len(report.checks)


def test_planted_near_duplicates_are_all_found(planted_kb: Path, model: Encoder, home: Path) -> None:
    report = overlaps(planted_kb, model, home)
    originals = {new_id: Path(relative).stem for relative, (new_id, _, _) in COPIES.items()}
    assert {frozenset((p.a, p.b)) for p in report.pairs} == {frozenset(item) for item in originals.items()}
    for pair in report.pairs:
        assert pair.ambiguous_a >= 1 and pair.ambiguous_b >= 1
        assert pair.own_score - pair.other_score < DecisionConfig().min_margin
    text = render_report(report)
    assert "Fast gleiche Einträge: 3 Paare" in text and "wohngeld/wbs-beantragen.md" in text


def test_a_phrasing_moved_into_a_wrong_entry_is_misrouted(model: Encoder, home: Path,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    kb = tmp_path_factory.mktemp("moved") / "kb"
    shutil.copytree(ROOT / "kb", kb)
    source, target = kb / "buergeramt" / "fundbuero.md", kb / "steuern" / "hundesteuer-anmelden.md"
    source.write_text(rewrite(source, lambda meta: meta["questions"].remove(MOVED)), encoding="utf-8")
    target.write_text(rewrite(target, lambda meta: meta["questions"].append(MOVED)), encoding="utf-8")
    report = overlaps(kb, model, home)
    moved = [c for c in report.misrouted if c.phrasing == MOVED]
    assert [(c.faq_id, c.top_id) for c in moved] == [("hundesteuer-anmelden", "fundbuero")]
    assert MOVED in render_report(report, lang="en").split("\n3. ")[0]


@pytest.fixture
def settings_home(home: Path, real_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from bot.config.settings import get_settings

    monkeypatch.setenv("AUSKUNFT_HOME", str(home))
    monkeypatch.setenv("AUSKUNFT_EMBEDDING_MODEL", str(real_model))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def test_run_overlap_prints_the_report_without_touching_the_live_index(planted_kb: Path, settings_home: Path) -> None:
    out = io.StringIO()
    assert run_overlap(planted_kb, out=out) == 0
    assert "Fast gleiche Einträge: 3 Paare" in out.getvalue() and "[wbs-beantragen]" in out.getvalue()
    assert not (settings_home / "index").exists()
