"""Script payloads in the editor's entry pages: a kb file's fields, its answer's preview and the ``?frage=`` text.

The entry form previews the answer rendered like the widget (markdown to HTML): a ``javascript:`` link or raw
HTML in an answer must come out as text or as a harmless link, never as markup that runs.
"""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.e2e.conftest import Running
from tests.security.helpers import XSS, assert_inert

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
ENTRY = "angriff-xss-eintrag"


@pytest.fixture(scope="module")
def hostile_entry(services: Running) -> Iterator[str]:
    """A valid kb file whose title, phrasings and answer carry the payloads (removed afterwards)."""
    path = services.kb / "allgemein" / f"{ENTRY}.md"
    questions = "\n".join(f"  - '{payload}'" for payload in XSS)
    path.write_text(f"""---
id: {ENTRY}
title: 'Hund <img src=x onerror=alert(1)> anmelden'
questions:
{questions}
lang: de
source: https://musterstadt.example/hund
owner: Steueramt
updated: 2026-11-23
---
Hier klicken: [Formular](javascript:alert(1)) oder [hier](JaVaScRiPt:alert(2)).

<script>alert("antwort")</script> <img src=x onerror=alert(3)>
""", encoding="utf-8")
    yield ENTRY
    path.unlink()


def test_the_entry_list_and_form_show_the_payloads_as_text(hostile_entry: str, manager: httpx.Client) -> None:
    listing = manager.get("/inbox/editor/entries")
    assert listing.status_code == 200 and hostile_entry in listing.text
    assert_inert(listing.text, XSS)
    form = manager.get(f"/inbox/editor/entries/{hostile_entry}/edit", params={"frage": XSS[0]})
    assert form.status_code == 200, form.text[:300]
    assert_inert(form.text, XSS)
    assert "Formular" in form.text  # the preview is there; its link is not a javascript: link


def test_a_question_passed_in_the_link_is_text_in_the_new_entry_form(manager: httpx.Client) -> None:
    for payload in XSS:
        form = manager.get("/inbox/editor/entries/new", params={"frage": payload})
        assert form.status_code == 200, form.text[:300]
        assert_inert(form.text, [payload])
