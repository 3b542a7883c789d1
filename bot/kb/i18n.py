"""Render findings and report lines in German or English (texts in :mod:`bot.kb.messages`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Mapping, Tuple

from bot.kb.messages import MESSAGES

UI: Dict[str, Dict[str, str]] = {
    "error": {"de": "Fehler", "en": "Error"},
    "warning": {"de": "Warnung", "en": "Warning"},
    "info": {"de": "Hinweis", "en": "Note"},
    "owner": {"de": "Zuständig", "en": "Owner"},
    "summary": {
        "de": "Ergebnis: {errors}, {warnings}, {infos} in {affected} von {files}.",
        "en": "Result: {errors}, {warnings}, {infos} in {affected} of {files}.",
    },
    "overdue_head": {"de": "Überfällige Überprüfungen:", "en": "Reviews overdue:"},
    "overdue_line": {
        "de": "  {path}: seit {days} Tagen (fällig am {date}) – Zuständig: {owner}",
        "en": "  {path}: by {days} days (due {date}) – owner: {owner}",
    },
    "overdue_none": {"de": "Keine Überprüfung ist überfällig.", "en": "No review is overdue."},
}


class _Values(Dict[str, str]):
    """Placeholder values; a missing one shows as ``?`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"


NOUNS: Dict[str, Dict[str, Tuple[str, str]]] = {
    "error": {"de": ("Fehler", "Fehler"), "en": ("error", "errors")},
    "warning": {"de": ("Warnung", "Warnungen"), "en": ("warning", "warnings")},
    "info": {"de": ("Hinweis", "Hinweise"), "en": ("note", "notes")},
    "file": {"de": ("Datei", "Dateien"), "en": ("file", "files")},
}


def counted(number: int, noun: str, lang: str) -> str:
    """``number`` with the singular or plural of ``noun`` (a key of :data:`NOUNS`), e.g. ``1 Warnung``."""
    forms = NOUNS[noun].get(lang) or NOUNS[noun]["de"]
    return f"{format_value(number, lang)} {forms[0] if number == 1 else forms[1]}"


def format_value(value: Any, lang: str) -> str:
    """One placeholder value as text: numbers in the reader's convention, dates as YYYY-MM-DD."""
    if isinstance(value, bool) or isinstance(value, date):
        return str(value)
    if isinstance(value, int):
        text = f"{value:,}"
        return text.replace(",", ".") if lang == "de" else text
    if isinstance(value, float):
        text = f"{value:,.1f}"
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") if lang == "de" else text
    return str(value)


def render(code: str, lang: str, params: Mapping[str, Any], fallback: str = "") -> Tuple[str, str]:
    """The message and the next step for one finding.

    Args:
        code: a key of :data:`MESSAGES`.
        lang: ``de`` or ``en`` (anything else falls back to ``de``).
        params: placeholder values.
        fallback: text used for a code without a translation.

    Returns:
        ``(message, next step)``; the next step may be empty.
    """
    texts = MESSAGES.get(code)
    if texts is None:
        return fallback or code, ""
    message, hint = texts.get(lang) or texts["de"]
    values = _Values({key: format_value(value, lang) for key, value in params.items()})
    return message.format_map(values), hint.format_map(values)


def ui(key: str, lang: str, **params: Any) -> str:
    """A fixed text of the report (severity names, summary lines) in ``lang``."""
    texts = UI[key]
    text = texts.get(lang) or texts["de"]
    return text.format(**{name: format_value(value, lang) for name, value in params.items()})
