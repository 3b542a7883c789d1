"""The managers' accounts page ``/inbox/accounts`` over HTTP (TestClient on a real SQLite database): who may see it,
creating and changing accounts with the problems shown next to the fields, disable/enable, new password, ending
sessions, removal, CSRF, and the audit log of account changes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.staff import accounts, passwords
from bot.staff.auth import get_agent
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import CSRF, PASSWORD, login, staff
from tests.helpers.ticket_api import TOKEN

NEW_PASSWORD = "ein-ganz-neues-passwort-9"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    app = create_app(Settings(home=tmp_path / "home", api_token=TOKEN,
                              database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}"))
    yield app
    services_of(app).close()


@pytest.fixture
def manager(app: FastAPI) -> TestClient:
    return staff(app, "chefin", manager=True)


def token(client: TestClient, page: str = "/inbox/accounts") -> str:
    found = CSRF.search(client.get(page).text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, path: str, **fields: Any) -> Any:
    return client.post(path, data={"csrf_token": token(client), **fields}, follow_redirects=False)


def field_error(page: str, field: str) -> str:
    """The message shown next to a field ('' if none)."""
    found = re.search(rf'<span class="field-error" id="{field}-fehler">([^<]*)</span>', page)
    return found.group(1) if found else ""


def agent_state(app: FastAPI, username: str) -> Any:
    with services_of(app).sessions() as session:
        agent = get_agent(session, username)
        return None if agent is None else (agent.display_name, agent.departments, accounts.roles_of(agent),
                                           agent.active)


def test_only_managers_see_the_page_and_the_link(app: FastAPI, manager: TestClient) -> None:
    weber = staff(app, "weber", "kfz")
    editor = staff(app, "roth", editor=True)
    for client in (weber, editor):
        assert client.get("/inbox/accounts").status_code == 403
        assert client.get("/inbox/accounts/chefin").status_code == 403
        assert post(client, "/inbox/accounts/chefin/disable").status_code == 403
    refused = weber.post("/inbox/accounts", data={"csrf_token": token(weber, "/inbox"), "username": "neu",
                                                  "display_name": "Neu", "password": PASSWORD,
                                                  "password_repeat": PASSWORD, "departments": ["kfz"]})
    assert refused.status_code == 403 and "Konten verwaltet nur die Leitung" in refused.text
    assert agent_state(app, "neu") is None and agent_state(app, "chefin")[3] is True
    assert 'href="/inbox/accounts"' not in weber.get("/inbox").text
    page = manager.get("/inbox/accounts")
    assert page.status_code == 200 and '<a href="/inbox/accounts" aria-current="page">Konten</a>' in page.text
    assert manager.get("/inbox/accounts/niemand").status_code == 404


def test_the_overview_lists_accounts_with_departments_roles_state_and_sessions(app: FastAPI,
                                                                               manager: TestClient) -> None:
    staff(app, "weber", "kfz", "standesamt")
    second = TestClient(app)
    assert login(second, "weber").status_code == 303  # two sessions now
    page = manager.get("/inbox/accounts").text
    row = re.search(r'<tr id="konto-weber">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
    assert cells == ["Frau Weber", "weber", "Kfz-Zulassung und Führerscheine, Standesamt", "–", "aktiv", "2"]
    assert "<td>Leitung</td>" in page and "Alle Konten (2)" in page


def test_invalid_input_is_shown_next_to_each_field_and_nothing_is_saved(app: FastAPI, manager: TestClient) -> None:
    response = post(manager, "/inbox/accounts", username="Wer da?", display_name="<b>Neu</b>", password="kurz",
                    password_repeat="kurz", departments=["kfz", "nirgendwo"], roles=["admin"])
    page = response.text
    assert response.status_code == 400 and "Das Konto wurde nicht angelegt" in page
    assert "3 bis 40 Zeichen" in field_error(page, "username")
    assert field_error(page, "display_name") == ""  # valid, kept in the form, escaped
    assert 'value="&lt;b&gt;Neu&lt;/b&gt;"' in page and "<b>Neu</b>" not in page
    assert "nur Abteilungen aus der Liste" in field_error(page, "departments")
    assert "nur Rollen aus der Liste" in field_error(page, "roles")
    assert "mindestens 12 Zeichen" in field_error(page, "password") and 'value="kurz"' not in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="username-fehler username-hinweis"' in page
    differ = post(manager, "/inbox/accounts", username="neu", display_name="Herr Neu", password=PASSWORD,
                  password_repeat=PASSWORD + "x", departments=["kfz"])
    assert differ.status_code == 400 and "stimmen nicht überein" in field_error(differ.text, "password")
    nothing = post(manager, "/inbox/accounts", username="neu", display_name="Herr Neu", password=PASSWORD,
                   password_repeat=PASSWORD)
    assert nothing.status_code == 400 and "mindestens eine Abteilung" in field_error(nothing.text, "departments")
    taken = post(manager, "/inbox/accounts", username="Chefin", display_name="Noch eine", password=PASSWORD,
                 password_repeat=PASSWORD, roles=["manager"])
    assert taken.status_code == 400 and "gibt es schon" in field_error(taken.text, "username")
    assert agent_state(app, "neu") is None and "Konto angelegt" not in manager.get("/inbox/accounts").text


def test_a_created_account_can_log_in_and_the_change_is_logged(app: FastAPI, manager: TestClient) -> None:
    response = post(manager, "/inbox/accounts", username="Neu", display_name="Herr Neu", password=PASSWORD,
                    password_repeat=PASSWORD, departments=["kfz", "standesamt"], roles=["editor"])
    assert response.status_code == 303 and response.headers["location"] == "/inbox/accounts?meldung=angelegt"
    assert agent_state(app, "neu") == ("Herr Neu", ["kfz", "standesamt"], ["editor"], True)
    assert login(TestClient(app), "neu").status_code == 303
    page = manager.get(response.headers["location"]).text
    assert "Das Konto wurde angelegt" in page
    audit = page.split('id="aenderungen"')[1]
    assert "Frau Chefin" in audit and "Konto angelegt" in audit and "<code>neu</code>" in audit
    assert "Rollen: Redaktion" in audit and PASSWORD not in page


def test_forms_without_the_csrf_token_change_nothing(app: FastAPI, manager: TestClient) -> None:
    staff(app, "weber", "kfz")
    for path, fields in (("/inbox/accounts", {"username": "neu", "display_name": "Neu", "password": PASSWORD,
                                              "password_repeat": PASSWORD, "departments": ["kfz"]}),
                         ("/inbox/accounts/weber", {"display_name": "Anders", "departments": ["kfz"]}),
                         ("/inbox/accounts/weber/disable", {}), ("/inbox/accounts/weber/remove", {"confirm": "ja"}),
                         ("/inbox/accounts/weber/password", {"password": NEW_PASSWORD,
                                                             "password_repeat": NEW_PASSWORD})):
        for token_value in ("", "falsch"):
            response = manager.post(path, data={**fields, "csrf_token": token_value}, follow_redirects=False)
            assert response.status_code == 403, path
    assert agent_state(app, "neu") is None and agent_state(app, "weber") == ("Frau Weber", ["kfz"], [], True)


def test_edit_name_departments_and_roles(app: FastAPI, manager: TestClient) -> None:
    staff(app, "weber", "kfz")
    bad = post(manager, "/inbox/accounts/weber", display_name=" ", departments=["nirgendwo"])
    assert bad.status_code == 400 and "Nichts wurde gespeichert" in bad.text
    assert field_error(bad.text, "display_name") and field_error(bad.text, "departments")
    assert agent_state(app, "weber") == ("Frau Weber", ["kfz"], [], True)
    done = post(manager, "/inbox/accounts/weber", display_name="Frau Dr. Weber", departments=["soziales"],
                roles=["editor", "manager"])
    assert done.status_code == 303 and done.headers["location"] == "/inbox/accounts/weber?meldung=gespeichert"
    assert agent_state(app, "weber") == ("Frau Dr. Weber", ["soziales"], ["manager", "editor"], True)
    same = post(manager, "/inbox/accounts/weber", display_name="Frau Dr. Weber", departments=["soziales"],
                roles=["editor", "manager"])
    assert same.headers["location"].endswith("meldung=unveraendert")
    post(manager, "/inbox/accounts/weber", display_name="Frau Dr. Weber", departments=["soziales"])
    last = post(manager, "/inbox/accounts/chefin", display_name="Frau Chefin", roles=["editor"])
    assert last.status_code == 400 and "letzte aktive Leitung" in field_error(last.text, "roles")
    audit = manager.get("/inbox/accounts").text.split('id="aenderungen"')[1]
    assert "Name geändert; Abteilungen: Wohngeld, Wohnen und Jugend; Rollen: Leitung, Redaktion" in audit
    assert "Frau Dr. Weber" not in audit  # the log says that the name changed, not to what


def test_disable_ends_the_sessions_enable_reset_password_and_revoke(app: FastAPI, manager: TestClient) -> None:
    weber = staff(app, "weber", "kfz")
    assert weber.get("/inbox").status_code == 200
    done = post(manager, "/inbox/accounts/weber/disable")
    assert done.headers["location"] == "/inbox/accounts/weber?meldung=deaktiviert"
    assert weber.get("/inbox", follow_redirects=False).status_code == 303  # the open session stopped working
    assert login(TestClient(app), "weber").status_code == 401
    page = manager.get(done.headers["location"]).text
    assert '<dd id="zustand">deaktiviert</dd>' in page and "Konto aktivieren" in page
    post(manager, "/inbox/accounts/weber/enable")
    client = TestClient(app)
    assert login(client, "weber").status_code == 303
    assert '<dd id="sitzungen">1</dd>' in manager.get("/inbox/accounts/weber").text
    assert post(manager, "/inbox/accounts/weber/revoke-sessions").headers["location"].endswith("meldung=abgemeldet")
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    short = post(manager, "/inbox/accounts/weber/password", password="kurz", password_repeat="kurz")
    assert short.status_code == 400 and "mindestens 12 Zeichen" in field_error(short.text, "password")
    assert login(TestClient(app), "weber").status_code == 303  # old password still valid
    reset = post(manager, "/inbox/accounts/weber/password", password=NEW_PASSWORD, password_repeat=NEW_PASSWORD)
    assert reset.headers["location"].endswith("meldung=passwort")
    assert login(TestClient(app), "weber", NEW_PASSWORD).status_code == 303
    audit = manager.get("/inbox/accounts").text.split('id="aenderungen"')[1]
    for action in ("Konto deaktiviert", "Konto aktiviert", "Sitzungen beendet", "Neues Passwort gesetzt"):
        assert action in audit
    assert NEW_PASSWORD not in audit


def test_a_manager_cannot_lock_themselves_out_and_removal_needs_confirmation(app: FastAPI,
                                                                             manager: TestClient) -> None:
    staff(app, "weber", "kfz")
    own = manager.get("/inbox/accounts/chefin").text
    assert "Konto deaktivieren" not in own and "Konto löschen" not in own
    refused = post(manager, "/inbox/accounts/chefin/disable")
    assert refused.headers["location"] == "/inbox/accounts/chefin?meldung=yourself"
    page = manager.get(refused.headers["location"]).text
    assert "eigenes Konto" in page and 'class="flash flash-error" role="alert"' in page
    assert post(manager, "/inbox/accounts/weber/remove").headers["location"].endswith("meldung=not_confirmed")
    assert agent_state(app, "weber") is not None
    removed = post(manager, "/inbox/accounts/weber/remove", confirm="ja")
    assert removed.headers["location"] == "/inbox/accounts?meldung=geloescht"
    assert agent_state(app, "weber") is None and "Konto gelöscht" in manager.get("/inbox/accounts").text


def test_the_audit_log_shows_the_latest_50_changes(app: FastAPI, manager: TestClient) -> None:
    with services_of(app).sessions() as session:
        for number in range(55):
            accounts.record(session, "cli:root", "sessions_revoked", f"konto{number:02d}", {"sessions_ended": 0})
        accounts.record(session, "clive", "enabled", "weber")  # a manager whose name starts like the command line
        accounts.record(session, "cli", "enabled", "weber")
        session.commit()
    audit = manager.get("/inbox/accounts").text.split('id="aenderungen"')[1]
    assert audit.count("<code>konto") == 48 and "<code>konto54</code>" in audit and "<code>konto06</code>" not in audit
    assert "<td>Kommandozeile (root)</td>" in audit and "<td>clive</td>" in audit and "<td>Kommandozeile</td>" in audit
