"""kb import of saved web pages: schema.org FAQPage as JSON-LD and microdata, <details>, headings, definition lists.

Fixtures written by others (see tests/data/kb_import/SOURCES.md): schema.org's own FAQ page (microdata, with
an unclosed <body> tag and <ol> inside <p>), Google's FAQPage JSON-LD example, GOV.UK Frontend's details
examples rendered with its template. Every import's output must load with the project's own kb loader.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.editor.importing.to_markdown import html_to_markdown
from tests.helpers.kb_import import DATA, TODAY, answers, run_import, valid_kb

SCHEMA_ORG = "https://schema.org/docs/faq.html"


def test_schema_org_faq_microdata_gives_every_question_with_anchor_and_absolute_links(tmp_path: Path) -> None:
    source = DATA / "schemaorg_faq.html"
    report = run_import(source, tmp_path / "kb", source_url=SCHEMA_ORG)
    kb = valid_kb(tmp_path / "kb")
    page = source.read_text(encoding="utf-8")
    assert report.method.startswith("microdata")
    assert len(kb.entries) == page.count('itemprop="mainEntity"') == 20
    by_title = {entry.title: entry for entry in kb.entries}
    first = by_title["What is the purpose of schema.org?"]  # "Q:" prefix and the <a name> anchor are not in the title
    assert first.source == f"{SCHEMA_ORG}#0" and first.lang == "en" and first.owner == "Test"
    assert first.updated == TODAY
    reuse = by_title["Under what terms can we reuse this documentation (and schemas, examples, software)?"]
    assert "[terms of service](https://schema.org/docs/terms.html)" in reuse.answer
    assert "[get in touch](https://schema.org/docs/feedback.html)" in reuse.answer  # relative link made absolute
    new_schema = by_title["There are lots of schemas out there. Why create a new one?"]
    assert "\n1. Webmasters: Schema.org provides" in new_schema.answer and "\n3. Users:" in new_schema.answer
    assert all("<" not in entry.answer for entry in kb.entries)


def test_schema_org_faq_without_source_url_keeps_relative_links_as_text(tmp_path: Path) -> None:
    source = DATA / "schemaorg_faq.html"
    run_import(source, tmp_path / "kb", source_url="https://mirror.example/faq")
    kb = valid_kb(tmp_path / "kb")
    reuse = next(e for e in kb.entries if e.title.startswith("Under what terms"))
    assert "[get in touch](https://mirror.example/feedback.html)" in reuse.answer
    assert html_to_markdown('<a href="feedback.html">get in touch</a>', None) == "get in touch"


def test_google_faqpage_json_ld_example(tmp_path: Path) -> None:
    url = "https://developers.google.com/search/docs/appearance/structured-data/faqpage"
    report = run_import(DATA / "google_faqpage_jsonld.html", tmp_path / "kb", source_url=url)
    kb = valid_kb(tmp_path / "kb")
    assert report.method.startswith("JSON-LD")
    assert answers(kb) == {
        "How to find an apprenticeship?": "We provide an official service to search through available "
        "apprenticeships. To get started, create an account here, specify the desired region, and your preferences."
        " You will be able to search through all officially registered open apprenticeships.",
        "Whom to contact?": "You can contact the apprenticeship office through our official phone hotline above, or "
        "with the web-form below. We generally respond to written requests within 7-10 days.",
    }
    assert {entry.id for entry in kb.entries} == {"find-apprenticeship", "contact"}
    assert {entry.source for entry in kb.entries} == {url}


def test_govuk_details_examples_with_a_duplicate_reported(tmp_path: Path) -> None:
    report = run_import(DATA / "govuk_details.html", tmp_path / "kb",
                        source_url="https://design-system.service.gov.uk/components/details/")
    kb = valid_kb(tmp_path / "kb")
    assert report.method == "<details>/<summary>"
    found = answers(kb)
    assert found["Where to find your National Insurance Number"] == (
        "Your National Insurance number can be found on\n\n- your National Insurance card\n- your payslip\n- P60\n"
        "- benefits information\n- tax return")
    assert found["Expand this section"] == "More about the greater than symbol (>)"  # &gt; unescaped once
    assert "Use bold text sparingly" in found
    assert [(s.where, s.reason) for s in report.plan.skipped] == [("item 2", "duplicate_question")]
    assert "same answer" in report.plan.skipped[0].detail
    assert "Skipped (1):" in report.to_text() and "duplicate question" in report.to_text()


def test_json_ld_graph_references_lists_and_repairs(tmp_path: Path) -> None:
    report = run_import(DATA / "graph_jsonld.html", tmp_path / "kb")  # the canonical link gives the page URL
    kb = valid_kb(tmp_path / "kb")
    by_title = {entry.title: entry for entry in kb.entries}
    ausweis = by_title["Wie beantrage ich einen Personalausweis?"]
    assert ausweis.source == "https://www.musterstadt.example/buergerservice/faq#frage-ausweis"
    assert ausweis.answer == ("Persönlich im **Bürgeramt** mit einem "
                              "[Termin](https://www.musterstadt.example/termine).")  # escaped HTML, relative link
    umzug = by_title["Ich bin umgezogen – was muss ich tun?"]
    assert umzug.source.endswith("#umzug")
    assert umzug.answer == ("Melden Sie sich innerhalb von **zwei Wochen** um.\n\n1. Termin buchen\n"
                            "2. Wohnungsgeberbestätigung mitbringen")
    english = by_title["How do I register my address?"]  # QAPage, suggestedAnswer, inside an HTML comment
    assert english.lang == "en" and english.answer == "Book an appointment at the Bürgeramt.\nBring your ID."
    assert "Where is the Bürgeramt?" in by_title  # a trailing comma repaired
    assert len(report.notes) == 1 and "JSON-LD block 3" in report.notes[0]


def test_headings_page_question_level_nav_and_footer_left_out(tmp_path: Path) -> None:
    url = "https://www.musterstadt.example/standesamt/faq"
    report = run_import(DATA / "headings_de.html", tmp_path / "kb", source_url=url)
    kb = valid_kb(tmp_path / "kb")
    assert report.method == "headings (h3)"
    by_title = {entry.title: entry for entry in kb.entries}
    assert set(by_title) == {"Wie bekomme ich eine Geburtsurkunde?", "Wo erkenne ich die Vaterschaft an?",
                             "Welche Unterlagen brauche ich für die Eheschließung?",
                             "Wie lange ist die Anmeldung gültig?"}
    birth = by_title["Wie bekomme ich eine Geburtsurkunde?"]
    assert birth.answer == ("Beim Standesamt des Geburtsorts, online oder persönlich.\n\n**Was kostet das?**\n\n"
                            "Die erste Urkunde kostet 12 Euro.")  # a smaller heading stays in the answer
    assert birth.source == f"{url}#geburtsurkunde" and birth.lang == "de"
    assert by_title["Wo erkenne ich die Vaterschaft an?"].source == f"{url}#vaterschaft"
    assert "(https://www.musterstadt.example/standesamt/jugendamt.html)" in by_title[
        "Wo erkenne ich die Vaterschaft an?"].answer
    assert {entry.id for entry in kb.entries} >= {"geburtsurkunde", "unterlagen-brauche-eheschliessung"}
    assert [(s.question, s.reason) for s in report.plan.skipped] == [
        ("Kann ich im Rathausgarten heiraten?", "empty_answer")]


def test_definition_list_page(tmp_path: Path) -> None:
    page = tmp_path / "dl.html"
    page.write_text("<html lang=en><body><p>Our FAQ</p><dl>"
                    "<dt id=open>When are you open?<dd>Monday to Friday, <b>8 to 12</b>."
                    "<div><dt>Do I need an appointment?</dt><dd>Yes.</dd><dd>Book it online.</dd></div>"
                    "<dt>Is parking free?</dl></body></html>", encoding="utf-8")
    report = run_import(page, tmp_path / "kb", source_url="https://city.example/faq")
    kb = valid_kb(tmp_path / "kb")
    assert report.method == "definition list <dl>"
    assert answers(kb) == {"When are you open?": "Monday to Friday, **8 to 12**.",
                           "Do I need an appointment?": "Yes.\n\nBook it online."}
    assert next(e for e in kb.entries if e.title == "When are you open?").source == "https://city.example/faq#open"
    assert [s.reason for s in report.plan.skipped] == ["empty_answer"]


def test_same_answer_twice_becomes_a_phrasing(tmp_path: Path) -> None:
    page = tmp_path / "faq.html"
    page.write_text("<h2>Wo beantrage ich einen Reisepass?</h2><p>Im Bürgeramt.</p>"
                    "<h2>Wo bekomme ich einen Pass?</h2><p>Im  Bürgeramt.</p>", encoding="utf-8")
    report = run_import(page, tmp_path / "kb", source_url="https://stadt.example/faq")
    kb = valid_kb(tmp_path / "kb")
    assert len(kb.entries) == 1 and kb.entries[0].questions == ("Wo bekomme ich einen Pass?",)
    assert [(m.question, m.entry_id) for m in report.plan.merged] == [("Wo bekomme ich einen Pass?",
                                                                       kb.entries[0].id)]


def test_ids_transliterate_umlauts_and_stay_unique(tmp_path: Path) -> None:
    page = tmp_path / "faq.html"
    page.write_text("<h2>Wie lange dauert die Ummeldung?</h2><p>Zehn Minuten.</p>"
                    "<h2>Wie lange dauert die Ummeldung?!</h2><p>Kommt darauf an.</p>"
                    "<h2>Was kostet ein Führungszeugnis für Vereine?</h2><p>13 Euro.</p>", encoding="utf-8")
    report = run_import(page, tmp_path / "kb", source_url="https://stadt.example/faq")
    kb = valid_kb(tmp_path / "kb")
    assert sorted(entry.id for entry in kb.entries) == ["kostet-fuehrungszeugnis-vereine", "lange-dauert-ummeldung"]
    assert report.plan.skipped[0].reason == "duplicate_question"
    assert "different answer" in report.plan.skipped[0].detail
    assert all(re.fullmatch(r"[a-z0-9-]+", entry.id) for entry in kb.entries)
