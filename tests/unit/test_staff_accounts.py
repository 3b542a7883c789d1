"""Staff account lifecycle (bot.staff.accounts) on a real SQLite database, and the ``auskunft agent`` commands for it:
disable, enable, new password, ending sessions, changes of name, departments and roles, removal, the audit rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, List

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.settings import Settings
from bot.db.engine import make_engine, session_factory
from bot.staff import accounts, passwords
from bot.staff.accounts import AccountError, UnknownAgent
from bot.staff.auth import LoginThrottle, agent_for_token, authenticate, get_agent, start_session
from bot.staff.models import AgentSession, StaffAudit
from bot.tickets.departments import Departments
from tests.conftest import ROOT
from tests.helpers.inbox import PASSWORD
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url
from tests.helpers.ticket_api import TOKEN

NEW_PASSWORD = "ein-ganz-neues-passwort-9"


@pytest.fixture
def known() -> Departments:
    return Departments.load(ROOT / "departments.yml")


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
       known: Departments) -> Iterator[Session]:
    """A migrated database (SQLite, PostgreSQL) with a manager ``chefin`` and an agent ``weber`` (Bürgerservice)."""
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    engine = make_engine(url)
    session = session_factory(engine)()
    accounts.create(session, "chefin", "Frau Chefin", PASSWORD, [], ["manager"], "cli:root", known)
    accounts.create(session, "weber", "Frau Weber", PASSWORD, ["buergerservice"], [], "chefin", known)
    yield session
    session.close()
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres(url)


def can_log_in(session: Session, username: str, password: str) -> bool:
    """Whether the login succeeds (a fresh throttle each time: these tests are not about throttling)."""
    return authenticate(session, username, password, LoginThrottle()) is not None


def actions(session: Session) -> List[Any]:
    """(actor, action, target, detail) of every audit row, oldest first."""
    rows = session.execute(select(StaffAudit).order_by(StaffAudit.id)).scalars()
    return [(r.actor, r.action, r.target, r.detail) for r in rows]


def test_create_validates_each_field_and_is_audited(db: Session, known: Departments) -> None:
    cases = [(("We ber!", "Frau X", PASSWORD, ["kfz"], []), "username", "username"),
             (("weber", "Frau X", PASSWORD, ["kfz"], []), "username", "taken"),
             (("neu", "  ", PASSWORD, ["kfz"], []), "display_name", "display_name"),
             (("neu", "Herr Neu", PASSWORD, ["nirgendwo"], []), "departments", "unknown_department"),
             (("neu", "Herr Neu", PASSWORD, [], []), "departments", "no_department"),
             (("neu", "Herr Neu", PASSWORD, [], ["admin"]), "roles", "roles"),
             (("neu", "Herr Neu", "kurz", ["kfz"], []), "password", "password_short")]
    for (username, name, password, departments, roles), field, code in cases:
        with pytest.raises(AccountError) as caught:
            accounts.create(db, username, name, password, departments, roles, "chefin", known)
        assert (caught.value.field, caught.value.code) == (field, code), username
    assert get_agent(db, "neu") is None
    editor = accounts.create(db, "Roth", "Frau Roth", PASSWORD, [], ["editor"], "chefin", known)
    assert (editor.username, editor.is_editor, editor.is_manager, editor.departments) == ("roth", True, False, [])
    assert actions(db)[-1] == ("chefin", "created", "roth", {"departments": [], "roles": ["editor"]})


def test_a_disabled_agent_cannot_log_in_and_its_sessions_end(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    token, _ = start_session(db, weber, 60)
    assert agent_for_token(db, token) is not None
    accounts.disable(db, "weber", "chefin")
    assert agent_for_token(db, token) is None and not can_log_in(db, "weber", PASSWORD)
    assert db.execute(select(AgentSession)).first() is None  # deleted, not only ignored
    accounts.disable(db, "weber", "chefin")  # again: nothing more to do, nothing more logged
    accounts.enable(db, "weber", "chefin")
    assert can_log_in(db, "weber", PASSWORD)
    assert actions(db)[-2:] == [("chefin", "disabled", "weber", {"sessions_ended": 1}),
                                ("chefin", "enabled", "weber", None)]


def test_the_sessions_of_a_disabled_agent_stop_even_if_they_remain(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    token, _ = start_session(db, weber, 60)
    weber.active = False  # as an older release or a direct database change leaves it
    db.commit()
    assert agent_for_token(db, token) is None


def test_reset_password_ends_the_sessions_and_never_stores_the_password(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    old_token, _ = start_session(db, weber, 60)
    with pytest.raises(AccountError, match="12 characters"):
        accounts.reset_password(db, "weber", "kurz", "chefin")
    assert agent_for_token(db, old_token) is not None  # refused: nothing changed
    accounts.reset_password(db, "weber", NEW_PASSWORD, "chefin")
    assert agent_for_token(db, old_token) is None
    assert not can_log_in(db, "weber", PASSWORD) and can_log_in(db, "weber", NEW_PASSWORD)
    assert actions(db)[-1] == ("chefin", "password_reset", "weber", {"sessions_ended": 1})
    assert NEW_PASSWORD not in repr(actions(db)) and "scrypt" not in repr(actions(db))


def test_revoke_sessions_counts_what_it_ended(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    tokens = [start_session(db, weber, 60)[0] for _ in range(2)]
    assert accounts.revoke_sessions(db, "weber", "chefin") == 2
    assert all(agent_for_token(db, t) is None for t in tokens)
    assert can_log_in(db, "weber", PASSWORD)  # the account itself still works
    assert accounts.revoke_sessions(db, "weber", "chefin") == 0


def test_update_changes_only_what_is_valid_and_records_what_changed(db: Session, known: Departments) -> None:
    with pytest.raises(AccountError) as caught:
        accounts.update(db, "weber", "chefin", known, departments=["kfz", "nirgendwo"])
    assert caught.value.field == "departments"
    with pytest.raises(AccountError, match="at least one department"):
        accounts.update(db, "weber", "chefin", known, departments=[], roles=[])
    with pytest.raises(AccountError):
        accounts.update(db, "weber", "chefin", known, display_name="")
    weber = get_agent(db, "weber")
    assert weber is not None and (weber.display_name, weber.departments) == ("Frau Weber", ["buergerservice"])
    accounts.update(db, "weber", "chefin", known, display_name="Frau Dr. Weber", departments=["kfz", "standesamt"],
                    roles=["editor"])
    db.expire_all()
    weber = get_agent(db, "weber")
    assert weber is not None
    assert (weber.display_name, weber.departments, weber.is_editor) == ("Frau Dr. Weber", ["kfz", "standesamt"], True)
    assert actions(db)[-1] == ("chefin", "updated", "weber", {"display_name": "changed",
                                                              "departments": ["kfz", "standesamt"], "roles": ["editor"]})
    count = len(actions(db))
    accounts.update(db, "weber", "chefin", known, display_name="Frau Dr. Weber")  # no change: no audit row
    assert len(actions(db)) == count


def test_someone_always_remains_who_can_manage(db: Session, known: Departments) -> None:
    for change in (lambda: accounts.disable(db, "chefin", "cli:root"),
                   lambda: accounts.remove(db, "chefin", "cli:root"),
                   lambda: accounts.update(db, "chefin", "cli:root", known, roles=["editor"])):
        with pytest.raises(AccountError) as caught:
            change()
        assert caught.value.code == "last_manager"
    with pytest.raises(AccountError) as caught:
        accounts.disable(db, "chefin", "chefin")
    assert caught.value.code == "yourself"
    accounts.update(db, "weber", "chefin", known, roles=["manager"])
    accounts.disable(db, "chefin", "weber")  # another manager is left now
    chefin = get_agent(db, "chefin")
    assert chefin is not None and not chefin.active


def test_remove_deletes_the_account_and_its_sessions_but_keeps_the_audit(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    start_session(db, weber, 60)
    accounts.remove(db, "weber", "chefin")
    assert get_agent(db, "weber") is None and db.execute(select(AgentSession)).first() is None
    assert actions(db)[-1] == ("chefin", "removed", "weber", None)
    with pytest.raises(UnknownAgent, match="auskunft agent list"):
        accounts.remove(db, "weber", "chefin")


def test_overview_counts_open_sessions_and_the_audit_log_is_newest_first(db: Session) -> None:
    weber = get_agent(db, "weber")
    assert weber is not None
    start_session(db, weber, 60)
    start_session(db, weber, 60)
    start_session(db, weber, -1)  # expired (and not yet tidied up): not counted
    assert len(db.execute(select(AgentSession)).all()) == 3
    rows = {row.agent.username: (row.open_sessions, row.roles) for row in accounts.overview(db)}
    assert rows == {"chefin": (0, ["manager"]), "weber": (2, [])}
    accounts.revoke_sessions(db, "weber", "chefin")
    latest = accounts.audit_log(db, limit=2)
    assert [e.action for e in latest] == ["sessions_revoked", "created"] and latest[1].target == "weber"


# --- the command line ------------------------------------------------------------------------------------------


def test_cli_lifecycle_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser

    monkeypatch.setattr(passwords, "N", 2**10)
    settings = Settings(home=tmp_path / "cli", api_token=TOKEN)
    monkeypatch.setattr("bot.config.settings.get_settings", lambda: settings)
    monkeypatch.setattr("getpass.getuser", lambda: "admin")

    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return int(args.func(args))

    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", PASSWORD)
    assert run("agent", "add", "weber", "--name", "Frau Weber", "--department", "kfz") == 0
    assert run("agent", "add", "chefin", "--name", "Frau Chefin", "--manager") == 0
    assert run("agent", "disable", "weber") == 0
    assert run("agent", "disable", "chefin") == 1  # the last manager
    assert run("agent", "disable", "niemand") == 2
    assert run("agent", "enable", "Weber") == 0
    assert run("agent", "revoke-sessions", "weber") == 0
    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", "kurz")
    assert run("agent", "reset-password", "weber") == 1
    monkeypatch.delenv("AUSKUNFT_AGENT_PASSWORD")
    answers = iter([NEW_PASSWORD, NEW_PASSWORD + "x", NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run("agent", "reset-password", "weber") == 1  # the two differ
    assert run("agent", "reset-password", "weber") == 0
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("asked to confirm an unknown agent"))
    assert run("agent", "remove", "niemand") == 2
    monkeypatch.setattr("builtins.input", lambda prompt="": "jemand")
    assert run("agent", "remove", "weber") == 1  # not confirmed
    monkeypatch.setattr("builtins.input", lambda prompt="": "weber")
    assert run("agent", "remove", "weber") == 0
    assert run("agent", "remove", "weber", "--yes") == 2
    out, err = capsys.readouterr()
    assert "agent weber disabled" in out and "agent weber enabled" in out and "0 session(s) of weber ended" in out
    assert "password of weber changed" in out and "agent weber removed" in out
    assert "last active manager" in err and "no agent 'niemand'" in err and "at least 12 characters" in err
    assert "the two passwords differ" in err and "not confirmed" in err
    assert PASSWORD not in out + err and NEW_PASSWORD not in out + err

    engine = make_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        logged = [(actor, action, target) for actor, action, target, _ in actions(session)]
    engine.dispose()
    assert logged == [("cli:admin", "created", "weber"), ("cli:admin", "created", "chefin"),
                      ("cli:admin", "disabled", "weber"), ("cli:admin", "enabled", "weber"),
                      ("cli:admin", "sessions_revoked", "weber"), ("cli:admin", "password_reset", "weber"),
                      ("cli:admin", "removed", "weber")]
