"""Front matter that crashed the kb loader (found by tests/security/test_kb_fuzz.py) is a validation error now."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.errors import KbValidationError
from bot.kb.loader import parse_entry

FRONT = ("id: hund\ntitle: Hund anmelden\nlang: de\nsource: https://musterstadt.example/hund\nowner: Steueramt\n"
         "updated: {updated}\nreview_by: {review_by}\n")


@pytest.mark.parametrize("updated, review_by, code", [
    ("2026-13-45", "2027-01-01", "invalid_yaml"),  # ValueError from the date constructor
    ("2026-02-30", "2027-01-01", "invalid_yaml"),
    ("2026-01-01 10:00:00", "2027-01-01", "invalid_date"),  # datetime < date: TypeError
    ("2026-01-01", "2027-01-01T10:00:00+01:00", "invalid_date"),  # naive vs aware: TypeError
])
def test_impossible_dates_and_times_are_validation_errors(tmp_path: Path, updated: str, review_by: str,
                                                          code: str) -> None:
    path = tmp_path / "hund.md"
    path.write_text("---\n" + FRONT.format(updated=updated, review_by=review_by) + "---\nAntwort.\n", encoding="utf-8")
    with pytest.raises(KbValidationError) as caught:
        parse_entry(path, tmp_path)
    assert [issue.code for issue in caught.value.issues] == [code]
    assert "YYYY-MM-DD" in caught.value.issues[0].message


def test_brackets_nested_thousands_deep_are_a_validation_error(tmp_path: Path) -> None:
    path = tmp_path / "tief.md"
    path.write_text("---\nid: " + "[" * 5000 + "]" * 5000 + "\n---\nAntwort.\n", encoding="utf-8")
    with pytest.raises(KbValidationError) as caught:
        parse_entry(path, tmp_path)
    assert caught.value.issues[0].code == "invalid_yaml" and "nested too deeply" in caught.value.issues[0].message
