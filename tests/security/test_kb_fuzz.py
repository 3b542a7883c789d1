"""Fuzzing the kb loader and its front matter (hypothesis, 12,000 examples): every file it cannot take is refused
with its own validation error (:class:`KbValidationError`, naming the file and the problem), never another
exception. An editor's typo or a hostile file must not crash ``kb build``, the kb watcher or the editor pages.

Found and fixed with it: an impossible date (``updated: 2026-13-45``: ValueError), a date with a time beside a
date (``review_by < updated``: TypeError), brackets nested thousands deep (RecursionError).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.kb.entry import FaqEntry
from bot.kb.errors import KbValidationError
from bot.kb.loader import parse_entry

pytestmark = [pytest.mark.slow]
FUZZ = settings(deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
VALID: Dict[str, Any] = {"id": "hundesteuer-anmelden", "title": "Wie melde ich meinen Hund an?",
                         "questions": ["Hund anmelden?", "Wo bekomme ich eine Hundemarke?"], "lang": "de",
                         "tags": ["steuern", "hund"], "source": "https://musterstadt.example/hund",
                         "owner": "Steueramt", "updated": date(2026, 11, 23), "review_by": date(2027, 5, 31)}
ANSWER = "Wer einen Hund hält, meldet ihn beim **Steueramt** an.\n"

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=60),
                    st.dates(), st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
                    st.sampled_from(["", " ", "de", "en", "fr", "https://x.example", "javascript:alert(1)", "2026-13-45",
                                     "<script>", "a" * 300, "\u202e", "\x00", "~", "null", "*a", "&a x"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
fields = st.sampled_from(sorted(VALID) + ["plain", "tests", "unknown", "ID", "lang "])
yaml_junk = st.sampled_from(["---", "...", "- ", ": ", "? ", "[", "]", "{", "}", "&a ", "*a", "!!python/object:os.system",
                             "!!binary", "|", ">", "#", "'", '"', "\t", "\n", "%YAML 1.1", "<<: *a", "2026-02-30",
                             "2026-01-01 10:00:00", "\ufeff", "\r", "\x85", "\u2028", "~", "0x1F", ".inf", "1e400"])


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kb-fuzz-") as name:
        yield Path(name)


def _load(folder: Path, content: bytes) -> None:
    """Parse ``content`` as a kb file: an entry with the right types, or KbValidationError; anything else fails."""
    path = folder / "eintrag.md"
    path.write_bytes(content)
    try:
        entry = parse_entry(path, folder).entry
    except KbValidationError as err:
        assert err.issues and all(issue.path == "eintrag.md" and issue.message for issue in err.issues)
        return
    assert isinstance(entry, FaqEntry) and isinstance(entry.id, str) and isinstance(entry.title, str)
    assert isinstance(entry.updated, date) and not isinstance(entry.updated, datetime)
    assert entry.answer.strip() and all(isinstance(q, str) for q in entry.questions)


def _file(meta: Dict[str, Any], body: str = ANSWER) -> bytes:
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body}".encode()


def test_the_unchanged_entry_loads(folder: Path) -> None:
    (folder / "eintrag.md").write_bytes(_file(VALID))
    assert parse_entry(folder / "eintrag.md", folder).entry.id == "hundesteuer-anmelden"


@settings(FUZZ, max_examples=6000)
@given(changes=st.dictionaries(fields, values, max_size=4), dropped=st.sets(st.sampled_from(sorted(VALID)), max_size=2),
       body=st.one_of(st.just(ANSWER), st.text(max_size=80)))
def test_front_matter_with_wrong_types_and_values(folder: Path, changes: Dict[str, Any], dropped: set,
                                                  body: str) -> None:
    meta = {key: value for key, value in {**VALID, **changes}.items() if key not in dropped}
    try:
        content = _file(meta, body)
    except (yaml.YAMLError, UnicodeEncodeError):  # not writable as YAML/UTF-8 at all (e.g. lone surrogates)
        return
    _load(folder, content)


@settings(FUZZ, max_examples=4000)
@given(data=st.data())
def test_a_valid_file_with_characters_inserted_deleted_or_replaced(folder: Path, data: st.DataObject) -> None:
    text = _file(VALID).decode("utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 5))
        piece = data.draw(st.one_of(yaml_junk, st.text(max_size=6)))
        text = text[:at] + piece + text[at + cut:]
    try:
        content = text.encode("utf-8")
    except UnicodeEncodeError:
        content = text.encode("utf-8", "surrogatepass")  # not UTF-8: the loader must say so
    _load(folder, content)


@settings(FUZZ, max_examples=2000)
@given(content=st.one_of(st.binary(max_size=300), st.builds(lambda junk, tail: b"---\n" + junk + b"\n---\n" + tail,
                                                            st.binary(max_size=200), st.binary(max_size=40))))
def test_arbitrary_bytes(folder: Path, content: bytes) -> None:
    _load(folder, content)


@pytest.mark.parametrize("front", [
    "id: " + "[" * 5000 + "]" * 5000,
    "updated: 2026-13-45", "updated: 2026-02-30",
    "updated: 2026-01-01 10:00:00", "review_by: 2027-01-01T10:00:00+01:00",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nquestions: [*e, *e, *e, *e]",
    "title: !!python/object/apply:os.system [echo hacked]",
])
def test_known_hostile_front_matter_is_a_validation_error(folder: Path, front: str) -> None:
    base = yaml.safe_dump({k: v for k, v in VALID.items() if k != front.split(":")[0]}, sort_keys=False)
    with pytest.raises(KbValidationError):
        path = folder / "eintrag.md"
        path.write_text(f"---\n{base}{front}\n---\n{ANSWER}", encoding="utf-8")
        parse_entry(path, folder)
