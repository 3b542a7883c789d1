"""The bot's markdown subset as the inbox shows it: like the widget, escaped first, safe links only."""

from __future__ import annotations

import pytest

from bot.web.markdown import render_markdown, safe_href


def test_paragraphs_line_breaks_bold_and_lists_like_the_widget() -> None:
    text = "Bitte **so schnell wie möglich** kommen.\nDanke.\n\n- Ausweis\n- Foto\n\n1. Termin\n2) Gebühr"
    assert render_markdown(text) == (
        "<p>Bitte <strong>so schnell wie möglich</strong> kommen.<br>Danke.</p>"
        "<ul><li>Ausweis</li><li>Foto</li></ul><ol><li>Termin</li><li>Gebühr</li></ol>")


def test_italics_and_headings_stay_literal_as_in_the_widget() -> None:
    assert render_markdown("*kursiv* und # Titel") == "<p>*kursiv* und # Titel</p>"


def test_html_is_escaped_everywhere() -> None:
    html = render_markdown('<script>alert(1)</script> **<b>x</b>** [<i>y</i>](https://example.org/"a)')
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "<strong>&lt;b&gt;x&lt;/b&gt;</strong>" in html
    assert 'href="https://example.org/&#34;a"' in html


def test_links_open_in_a_new_tab_and_say_so() -> None:
    html = render_markdown("Siehe [Termine](https://stadt.example/termine?x=1&y=2) oder https://a.example/b.")
    assert ('<a href="https://stadt.example/termine?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">'
            'Termine<span class="visually-hidden"> (öffnet in neuem Tab)</span></a>') in html
    assert '<a href="https://a.example/b" ' in html and html.endswith("</a>.</p>")


def test_mail_links_without_target_and_without_query_tricks() -> None:
    assert render_markdown("[Mail](mailto:amt@stadt.example)") == \
        '<p><a href="mailto:amt@stadt.example">Mail</a></p>'
    assert render_markdown("[Mail](mailto:amt@stadt.example?bcc=x@evil.example)") == "<p>Mail</p>"


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/relativ",
                                  "https://user@evil.example/", "http:///nohost", "https://a.example/\\b",
                                  "mailto:a@b.example?body=x", "vbscript:x", ""])
def test_unsafe_addresses_are_refused(href: str) -> None:
    assert safe_href(href) == ""


def test_an_unsafe_link_is_shown_as_its_text() -> None:
    assert render_markdown("[klick](javascript:alert(1))") == "<p>klick</p>"


@pytest.mark.parametrize("href", ["https://stadt.example/a(b)", "http://x.example", "tel:+4930123"])
def test_safe_addresses_pass(href: str) -> None:
    assert safe_href(href) == href


def test_empty_and_windows_line_endings() -> None:
    assert render_markdown("") == ""
    assert render_markdown("a\r\nb\r\n\r\nc") == "<p>a<br>b</p><p>c</p>"
