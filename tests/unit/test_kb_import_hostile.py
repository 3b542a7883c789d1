"""kb import of hostile and broken input: scripts and event handlers, javascript: links, unclosed and deeply
nested tags, huge, empty, binary and FAQ-less files. Nothing active survives, and a failed import writes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.editor.importing import MAX_BYTES, FaqImportError
from bot.editor.importing.html_tree import MAX_DEPTH, parse_html
from bot.editor.importing.to_markdown import html_to_markdown
from tests.helpers.kb_import import DATA, all_text, answers, run_import, valid_kb

URL = "https://www.musterstadt.example/hundesteuer/faq"


def test_scripts_event_handlers_and_unsafe_links_do_not_survive(tmp_path: Path) -> None:
    report = run_import(DATA / "hostile.html", tmp_path / "kb", source_url=URL)
    kb = valid_kb(tmp_path / "kb")
    written = all_text(tmp_path / "kb").lower()
    for needle in ("<script", "inside answer", "alert('", "steal", "track()", "onclick", "onload", "onerror", "onmouseover", "javascript:",
                   "vbscript:", "data:text", "<iframe", "evil.example", "document.cookie", "<svg", "<b>", "<p",
                   "svg-text", "objekt-fallback", "keine frames", "javascript aktivieren", "menü", "impressum", "suchen"):
        assert needle not in written, needle
    found = answers(kb)
    assert found["Wie melde ich meinen Hund an?"] == (
        "Füllen Sie das Formular aus und senden Sie es an die [Steuerstelle](mailto:hundesteuer@musterstadt.example)."
        "\n\nMehr dazu [auf der Seite zur Hundesteuer](https://www.musterstadt.example/hundesteuer) und hier.")
    assert found["Was kostet die Hundesteuer?"] == (  # unclosed <h2> and <li>: the list is the answer
        "- erster Hund: **96 Euro**\n- jeder weitere: **120 Euro**\n- Listenhund: 600 Euro")
    reduced = found["Gibt es eine Ermäßigung?"]
    assert reduced.startswith("Ja, für Blindenführhunde & Rettungshunde < script>alert(1)< /script> bleibt Text.")
    assert "versteckt kodiert vb" in reduced  # link texts kept, targets gone
    assert any("JSON-LD block 1" in note for note in report.notes)


def test_text_that_looks_like_a_tag_cannot_become_html() -> None:
    assert html_to_markdown("<p>Use &lt;b&gt; and &lt;img src=x onerror=alert(1)&gt;</p>") == \
        "Use < b> and < img src=x onerror=alert(1)>"
    assert html_to_markdown("a <i>b</i> <code>c</code> <em>d</em>") == "a b c d"  # no italic in the widget


def test_markdown_link_syntax_in_text_is_defused() -> None:
    assert html_to_markdown("<p>[klick](javascript:alert(1)) [ok](https://a.example/x)</p>") == \
        "klick [ok](https://a.example/x)"


def test_deeply_nested_tags_parse_flat_without_recursion_errors(tmp_path: Path) -> None:
    depth = 50_000
    page = tmp_path / "deep.html"
    page.write_text("<h2>Tief verschachtelt?</h2>" + "<div><span>" * depth + "Antwort ganz unten"
                    + "</span></div>" * depth, encoding="utf-8")
    started = time.perf_counter()
    run_import(page, tmp_path / "kb", source_url=URL)
    assert time.perf_counter() - started < 20
    assert answers(valid_kb(tmp_path / "kb")) == {"Tief verschachtelt?": "Antwort ganz unten"}
    tree = parse_html("<div>" * (MAX_DEPTH * 3))
    deepest, node = 0, tree.root
    while node.children:
        child = node.children[0]
        assert not isinstance(child, str)
        node, deepest = child, deepest + 1
    assert deepest <= MAX_DEPTH


def test_unclosed_everything_still_imports(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_bytes(b"<html><body><h3>Frage eins?<p>Antwort <b>eins<h3>Frage zwei?<p>Antwort <a href='/z'>zwei")
    run_import(page, tmp_path / "kb", source_url=URL)
    assert answers(valid_kb(tmp_path / "kb")) == {
        "Frage eins?": "Antwort **eins**",
        "Frage zwei?": "Antwort [zwei](https://www.musterstadt.example/z)",
    }


def test_a_file_over_the_limit_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    with page.open("wb") as handle:
        handle.write(b"<h2>Frage?</h2><p>")
        handle.seek(MAX_BYTES + 10)
        handle.write(b"</p>")
    out = tmp_path / "kb"
    with pytest.raises(FaqImportError, match=r"at most 20 MB"):
        run_import(page, out, source_url=URL)
    assert not out.exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    (b"<html><body><p>Willkommen auf unserer Seite.</p></body></html>", "no questions and answers found"),
    (b'<script type="application/ld+json">{"@type": "FAQPage", "mainEntity": [</script>', "not valid JSON"),
])
def test_empty_binary_and_faq_less_pages_give_a_clear_error_and_write_nothing(tmp_path: Path, content: bytes,
                                                                               message: str) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(content)
    out = tmp_path / "kb"
    with pytest.raises(FaqImportError, match=message):
        run_import(page, out, source_url=URL)
    assert not out.exists()


def test_a_failure_on_a_later_file_leaves_an_existing_kb_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    out.mkdir()
    (out / "b-frage.md").mkdir()  # the second entry's file name is taken by a directory
    before = sorted(path.name for path in out.iterdir())
    page = tmp_path / "faq.html"
    page.write_text("<h2>A Frage?</h2><p>Eins.</p><h2>B Frage?</h2><p>Zwei.</p>", encoding="utf-8")
    with pytest.raises(FaqImportError, match="not a plain file"):
        run_import(page, out, source_url=URL)
    assert sorted(path.name for path in out.iterdir()) == before


def test_no_source_url_anywhere_is_an_error_before_writing(tmp_path: Path) -> None:
    page = tmp_path / "faq.html"
    page.write_text("<h2>Frage?</h2><p>Antwort.</p>", encoding="utf-8")
    with pytest.raises(FaqImportError, match="--source-url"):
        run_import(page, tmp_path / "kb")
    with pytest.raises(FaqImportError, match="not an http"):
        run_import(page, tmp_path / "kb", source_url="javascript:alert(1)")
    assert not (tmp_path / "kb").exists()
