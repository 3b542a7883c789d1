"""``auskunft kb diff`` with the real model on the sample kb: removing an entry changes exactly the questions about it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import yaml

from bot.config.settings import Settings
from bot.decision import ANSWER
from bot.editor.diff import DiffReport, diff_kb, render_diff
from bot.embedding.encoder import shared_encoder
from bot.embedding.st_encoder import Encoder
from bot.kb import load_kb

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
REMOVED = "abfall/sperrmuell-anmelden.md"
# Test questions written as citizens ask, not copies of the entries' phrasings.
TESTS: Dict[str, List[str]] = {
    REMOVED: ["Wie kann ich einen Termin für die Sperrmüllabfuhr ausmachen?",
              "Ich will mein altes Sofa vom Sperrmüll abholen lassen, wie melde ich das an?"],
    "buergeramt/reisepass-beantragen.md": ["Wie lange dauert es, bis mein neuer Reisepass fertig ist?"],
    "standesamt/geburt-anmelden.md": ["Wie melde ich die Geburt meines Kindes beim Standesamt an?"],
}
RECENT = ["Sperrmüll anmelden", "Was kostet ein neuer Reisepass?"]


def add_tests(path: Path, tests: List[str]) -> None:
    """Add ``tests:`` to the front matter of an entry file."""
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(front)
    meta["tests"] = tests
    path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body,
                    encoding="utf-8")


@pytest.fixture(scope="module")
def model(real_model: Path) -> Encoder:
    return shared_encoder(str(real_model), Settings().encoder_threads)


@pytest.fixture
def kbs(tmp_path: Path) -> tuple[Path, Path]:
    """The sample kb with test questions (old), and the same without the Sperrmüll entry (new)."""
    old = tmp_path / "kb-old"
    shutil.copytree(ROOT / "kb", old)
    for name, tests in TESTS.items():
        add_tests(old / name, tests)
    new = tmp_path / "kb-new"
    shutil.copytree(old, new)
    (new / REMOVED).unlink()
    return old, new


def timed(run: Callable[[], DiffReport]) -> tuple[DiffReport, float]:
    started = time.perf_counter()
    report = run()
    return report, time.perf_counter() - started


def test_removing_an_entry_changes_the_answers_about_it_and_nothing_unrelated(
    kbs: tuple[Path, Path], model: Encoder, tmp_path: Path
) -> None:
    old, new = load_kb(kbs[0]), load_kb(kbs[1])
    cache = tmp_path / "embedding-cache"
    config = Settings().decision_config()

    def run() -> DiffReport:
        return diff_kb(old, new, RECENT, model, config, cache_dir=cache, labels=("HEAD", "kb/"))

    report, cold = timed(run)  # empty cache: both kbs are embedded (the new kb entirely from the old one's cache)
    again, warm = timed(run)  # as in CI after 'auskunft kb build': every entry comes from the cache
    print(f"\nkb diff, real model, {len(old.entries)} -> {len(new.entries)} entries, "
          f"{report.count('test')} test + {report.count('recent')} recent questions: "
          f"cold cache {cold:.1f} s, warm cache {warm:.1f} s")
    print(render_diff(report))

    assert [(c.faq_id, c.status) for c in report.entries] == [("sperrmuell-anmelden", "removed")]
    by_text = {q.question: q for q in report.questions}
    for question in [*TESTS[REMOVED], "Sperrmüll anmelden"]:
        q = by_text[question]
        assert q.old.key == (ANSWER, "sperrmuell-anmelden"), (question, q.old)  # the old kb answers with it
        assert q.new.faq_id != "sperrmuell-anmelden" and q.changed, (question, q.new)
    unrelated = [*TESTS["buergeramt/reisepass-beantragen.md"], *TESTS["standesamt/geburt-anmelden.md"],
                 "Was kostet ein neuer Reisepass?"]
    for question in unrelated:
        q = by_text[question]
        assert q.old.key == q.new.key and q.new.action == ANSWER and not q.changed, (question, q.old, q.new)
    assert {q.question for q in report.changed} == {*TESTS[REMOVED], "Sperrmüll anmelden"}
    assert report.failing == []  # the removed entry's tests went with it; the others still pass
    assert [(q.question, q.old.key, q.new.key) for q in again.questions] == \
        [(q.question, q.old.key, q.new.key) for q in report.questions]  # deterministic, cache or not
    assert "entfernt  [sperrmuell-anmelden]" in render_diff(report)
