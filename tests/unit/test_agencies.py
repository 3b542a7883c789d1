"""Several agencies: agencies.yml is validated, kb layers merge by id, each agency publishes its own index."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Dict

import pytest
from fastapi.testclient import TestClient

from bot.config.agencies import Agencies, AgencyConfigError, UnknownAgency
from bot.config.settings import Settings
from bot.kb import KbValidationError, load_kb
from bot.kb.layers import load_layers
from bot.publish.build import build_and_publish
from bot.retrieval.searcher import FaqSearcher
from bot.retrieval.store import IndexStore
from bot.web.app import create_app
from tests.conftest import ROOT, HashEncoder
from tests.helpers.kb_files import VALID_ENTRY

EXAMPLE = ROOT / "examples" / "agencies"


def entry(tmp: Path, layer: str, faq_id: str, answer: str, name: str = "") -> Path:
    directory = tmp / layer
    directory.mkdir(parents=True, exist_ok=True)
    text = VALID_ENTRY.replace("id: beispiel", f"id: {faq_id}").replace("Die Antwort.", answer)
    path = directory / (name or f"{faq_id}.md")
    path.write_text(text, encoding="utf-8")
    return path


def config(tmp: Path, text: str) -> Path:
    path = tmp / "agencies.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_there_is_one_default_agency_on_the_kb_dir(tmp_path: Path) -> None:
    agencies = Agencies.load(tmp_path / "missing.yml", tmp_path / "kb")
    assert len(agencies) == 1 and agencies.get(None).layers == (tmp_path / "kb",)
    assert agencies.default.index_dir(tmp_path / "index") == tmp_path / "index"  # where it always was
    with pytest.raises(UnknownAgency, match="unknown agency 'adorf'; check the widget's data-agency"):
        agencies.get("adorf")


def test_the_example_deployment_loads(tmp_path: Path) -> None:
    agencies = Agencies.load(EXAMPLE / "agencies.yml", tmp_path)
    assert [a.key for a in agencies] == ["musterstadt", "adorf", "bdorf"]
    assert agencies.get(None).key == "musterstadt" and agencies.get("adorf").name == "Gemeinde Adorf"
    assert agencies.get("adorf").layers == ((ROOT / "kb").resolve(), (EXAMPLE / "adorf").resolve())
    assert agencies.get("adorf").index_dir(tmp_path) == tmp_path / "agencies" / "adorf"
    assert agencies.layer_dirs() == [(ROOT / "kb").resolve(), (EXAMPLE / "adorf").resolve(),
                                     (EXAMPLE / "bdorf").resolve()]


@pytest.mark.parametrize("text, message", [
    ("agencies: []", "expected a mapping 'agencies:'"),
    ("agencies: {Adorf: {name: A, kb: [kb]}}", "agency key 'Adorf' must be 1-40 lowercase"),
    ("agencies: {adorf: {kb: [kb]}}", "agency 'adorf' needs a 'name'"),
    ("agencies: {adorf: {name: A}}", "'kb' must list kb directories"),
    ("agencies: {adorf: {name: A, kb: [nowhere]}}", "kb directory 'nowhere'"),
    ("agencies: {adorf: {name: A, kb: [kb, kb]}}", "is listed twice"),
    ("agencies: {adorf: {name: A, kb: [kb], key: x}}", "unknown field(s) key"),
    ("agencies: {a: {name: A, kb: [kb]}, b: {name: B, kb: [kb]}}", "'default' must name one of a, b"),
    ("default: c\nagencies: {a: {name: A, kb: [kb]}}", "'default' must name one of a (got 'c')"),
    ("agencies: {a: [", "not valid YAML"),
])
def test_a_bad_agencies_file_names_file_agency_and_fix(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "kb").mkdir()
    path = config(tmp_path, text)
    with pytest.raises(AgencyConfigError) as caught:
        Agencies.load(path, tmp_path / "kb")
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_a_later_layer_replaces_an_entry_by_id_in_place_and_adds_its_own(tmp_path: Path) -> None:
    entry(tmp_path, "shared", "a-eins", "Geteilt eins.")
    entry(tmp_path, "shared", "b-zwei", "Geteilt zwei.")
    entry(tmp_path, "local", "b-zwei", "Lokal zwei.", name="anders.md")
    entry(tmp_path, "local", "c-drei", "Lokal drei.")
    layered = load_layers([tmp_path / "shared", tmp_path / "local"])
    assert [(e.id, e.answer) for e in layered.kb.entries] == [
        ("a-eins", "Geteilt eins."), ("b-zwei", "Lokal zwei."), ("c-drei", "Lokal drei.")]
    assert [(o.id, o.shared, o.local) for o in layered.overrides] == [("b-zwei", "shared/b-zwei.md",
                                                                       "local/anders.md")]
    assert layered.origin == {"a-eins": 0, "b-zwei": 1, "c-drei": 1}
    alone = load_layers([tmp_path / "shared"])
    assert alone.kb.content_hash == load_kb(tmp_path / "shared").content_hash  # one layer = the plain kb
    swapped = load_layers([tmp_path / "local", tmp_path / "shared"])
    assert swapped.kb.by_id()["b-zwei"].answer == "Geteilt zwei."
    assert swapped.kb.content_hash != layered.kb.content_hash


def test_a_problem_in_any_layer_rejects_the_whole_kb_naming_the_layer(tmp_path: Path) -> None:
    entry(tmp_path, "shared", "a-eins", "Geteilt.")
    broken = entry(tmp_path, "local", "b-zwei", "Lokal.")
    broken.write_text(broken.read_text(encoding="utf-8").replace("lang: de", "lang: fr"), encoding="utf-8")
    with pytest.raises(KbValidationError) as caught:
        load_layers([tmp_path / "shared", tmp_path / "local"])
    assert [(i.path, i.field) for i in caught.value.issues] == [("local/b-zwei.md", "lang")]
    with pytest.raises(ValueError, match="at least one layer"):
        load_layers([])


def test_each_agency_publishes_its_own_index_and_a_broken_town_keeps_its_last_one(tmp_path: Path) -> None:
    entry(tmp_path, "shared", "sperrmuell", "Der Kreis holt Sperrmüll ab.")
    entry(tmp_path, "adorf", "sperrmuell", "Der Bauhof Adorf holt Sperrmüll ab.")
    entry(tmp_path, "bdorf", "freibad", "Das Freibad Bdorf hat offen.")
    agencies = Agencies.load(config(tmp_path, "default: kreis\nagencies:\n  kreis: {name: Kreis, kb: [shared]}\n"
                                    "  adorf: {name: Adorf, kb: [shared, adorf]}\n"
                                    "  bdorf: {name: Bdorf, kb: [shared, bdorf]}\n"), tmp_path)
    encoder, root = HashEncoder(), tmp_path / "index"
    for agency in agencies:
        build_and_publish(agency.layers, agency.index_dir(root), tmp_path / "cache", encoder)
    indexes = {a.key: IndexStore(a.index_dir(root)).current() for a in agencies}
    answers: Dict[str, Dict[str, str]] = {k: {r.id: r.answer for r in i.records} for k, i in indexes.items()}
    assert answers == {"kreis": {"sperrmuell": "Der Kreis holt Sperrmüll ab."},
                       "adorf": {"sperrmuell": "Der Bauhof Adorf holt Sperrmüll ab."},
                       "bdorf": {"sperrmuell": "Der Kreis holt Sperrmüll ab.", "freibad": "Das Freibad Bdorf hat offen."}}
    ranked = FaqSearcher(encoder, store=IndexStore(agencies.get("adorf").index_dir(root))).search("Freibad Bdorf")
    assert [c.faq_id for c in ranked.candidates] == ["sperrmuell"]  # Adorf's index has no Bdorf entry at all
    bad = tmp_path / "adorf" / "sperrmuell.md"
    bad.write_text(bad.read_text(encoding="utf-8").replace("owner: Bürgeramt", "owner: "), encoding="utf-8")
    with pytest.raises(KbValidationError):
        build_and_publish(agencies.get("adorf").layers, agencies.get("adorf").index_dir(root), tmp_path / "cache",
                          encoder)
    kept = IndexStore(agencies.get("adorf").index_dir(root)).current()
    assert kept.entry("sperrmuell").answer == "Der Bauhof Adorf holt Sperrmüll ab."  # type: ignore[union-attr]


def test_the_chat_proxy_refuses_an_unknown_agency_before_the_bot_sees_it(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_kb", kb)
    path = config(tmp_path, "default: stadt\nagencies:\n  stadt: {name: Stadt, kb: [kb]}\n")
    settings = Settings(home=tmp_path / "home", agencies_file=path, rasa_port=9)  # port 9: nothing listens
    with TestClient(create_app(settings)) as client:
        body = {"sender": uuid.uuid4().hex, "message": "Hallo", "agency": "adorf"}
        refused = client.post("/api/chat", json=body)
        assert refused.status_code == 400 and "unknown agency 'adorf'" in refused.json()["detail"]
        assert client.post("/api/chat", json={**body, "agency": "Adorf!"}).status_code == 422
        assert client.post("/api/chat", json={**body, "agency": "stadt"}).status_code == 503  # known: forwarded


def test_a_bad_agencies_file_stops_the_web_service_at_start_up(tmp_path: Path) -> None:
    path = config(tmp_path, "agencies: {adorf: {name: A, kb: [missing]}}")
    with pytest.raises(AgencyConfigError, match="kb directory 'missing'"):
        create_app(Settings(home=tmp_path / "home", agencies_file=path))


def test_kb_diff_of_an_agency_compares_its_merged_layers(tmp_path: Path) -> None:
    from bot.editor.diff import _layered_at

    entry(tmp_path, "shared", "sperrmuell", "Der Kreis holt Sperrmüll ab.")
    entry(tmp_path, "adorf", "sperrmuell", "Der Bauhof Adorf holt Sperrmüll ab.")
    entry(tmp_path, "before", "freibad", "Das Freibad hat offen.")  # the town's layer as it was: no override yet
    old = _layered_at(str(tmp_path / "before"), [tmp_path / "shared", tmp_path / "adorf"], [])
    assert {e.id: e.answer for e in old.entries} == {"sperrmuell": "Der Kreis holt Sperrmüll ab.",
                                                     "freibad": "Das Freibad hat offen."}


def test_editor_commands_refuse_an_unknown_agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.config.settings import get_settings

    monkeypatch.setenv("AUSKUNFT_AGENCIES_FILE", str(EXAMPLE / "agencies.yml"))
    monkeypatch.setenv("AUSKUNFT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        for command in (["kb", "diff", "HEAD", "--agency", "cdorf"], ["kb", "overlap", "--agency", "cdorf"],
                        ["ask", "Hallo", "--agency", "cdorf"]):
            assert main(command) == 2
            assert "unknown agency 'cdorf'" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
