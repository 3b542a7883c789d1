"""Scoped API tokens (bot.staff.api_tokens) on real databases (SQLite, PostgreSQL) and the ``auskunft token``
commands: create (shown once, stored as SHA-256), verify, rotate with a grace period, revoke, expiry, scopes,
agencies, the audit rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.db.engine import make_engine, session_factory
from bot.staff import api_tokens
from bot.staff.api_tokens import Principal, TokenError, UnknownToken
from bot.staff.auth import aware
from bot.staff.models import ApiToken, StaffAudit
from bot.tickets.models import utcnow
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A migrated, empty ticket database."""
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    engine = make_engine(url)
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres(url)


def audit(session: Session) -> List[Any]:
    """(actor, action, target) of every audit row, oldest first."""
    return [(r.actor, r.action, r.target) for r in session.execute(select(StaffAudit).order_by(StaffAudit.id))
            .scalars()]


def test_create_shows_the_token_once_and_stores_only_its_hash(db: Session) -> None:
    row, token = api_tokens.create(db, "Helpdesk", ["tickets:read", "tickets:read", "tickets:write"], None,
                                   "cli:root")
    assert token.startswith("ak_") and len(token) >= 3 + 43  # 32 random bytes, URL-safe base64
    assert row.name == "helpdesk" and row.scopes == ["tickets:read", "tickets:write"] and row.agencies is None
    stored = db.execute(select(ApiToken)).scalar_one()
    assert stored.token_hash == api_tokens.hash_token(token) and token not in str(vars(stored))
    assert api_tokens.verify(db, token) is not None
    other = api_tokens.create(db, "zweiter", ["metrics:read"], None, "cli:root")[1]
    assert other != token
    assert audit(db) == [("cli:root", "token_create", "helpdesk"), ("cli:root", "token_create", "zweiter")]
    detail = db.execute(select(StaffAudit)).scalars().first().detail
    assert token not in str(detail) and detail["scopes"] == ["tickets:read", "tickets:write"]


def test_verify_refuses_wrong_revoked_and_expired_tokens(db: Session) -> None:
    _, token = api_tokens.create(db, "kurz", ["tickets:read"], None, "cli:root",
                                 expires_at=utcnow() + timedelta(hours=1))
    for wrong in ("", "ak_", token[:-1], token + "x", token.upper(), token[3:], "x" * 64):
        assert api_tokens.verify(db, wrong) is None, wrong
    assert api_tokens.verify(db, token) is not None
    assert api_tokens.verify(db, token, now=utcnow() + timedelta(hours=2)) is None  # expired
    assert api_tokens.revoke(db, "kurz", "cli:root") == 1
    assert api_tokens.verify(db, token) is None
    with pytest.raises(UnknownToken):
        api_tokens.revoke(db, "kurz", "cli:root")  # nothing left to end


def test_last_use_is_written_at_most_once_a_minute(db: Session) -> None:
    _, token = api_tokens.create(db, "zaehler", ["tickets:read"], None, "cli:root")
    start = utcnow()
    first = api_tokens.verify(db, token, now=start)
    assert first is not None and aware(first.last_used_at) == start
    api_tokens.verify(db, token, now=start + timedelta(seconds=30))
    db.expire_all()
    assert aware(db.execute(select(ApiToken)).scalar_one().last_used_at) == start
    api_tokens.verify(db, token, now=start + timedelta(seconds=61))
    db.expire_all()
    assert aware(db.execute(select(ApiToken)).scalar_one().last_used_at) == start + timedelta(seconds=61)


def test_rotation_keeps_the_old_token_for_the_grace_period_only(db: Session) -> None:
    _, old = api_tokens.create(db, "zammad", ["tickets:read", "tickets:write"], ["adorf"], "cli:root")
    row, new = api_tokens.rotate(db, "zammad", "cli:admin", timedelta(hours=2))
    assert new != old and row.name == "zammad" and row.scopes == ["tickets:read", "tickets:write"]
    assert row.agencies == ["adorf"]
    now = utcnow()
    kept = api_tokens.verify(db, old, now=now + timedelta(hours=1))
    assert kept is not None and api_tokens.principal_of(kept).name == "zammad"  # the history says "token:zammad"
    assert api_tokens.verify(db, old, now=now + timedelta(hours=3)) is None
    assert api_tokens.verify(db, new, now=now + timedelta(hours=3)) is not None
    names = [(r.name.split("~")[0], api_tokens.state(r).split()[0]) for r in api_tokens.list_tokens(db)]
    assert sorted(names) == [("zammad", "active"), ("zammad", "expires")]
    assert ("cli:admin", "token_rotate", "zammad") in audit(db)
    _, newest = api_tokens.rotate(db, "zammad", "cli:admin", timedelta(0))  # grace 0: the last one ends now
    assert api_tokens.verify(db, new) is None and api_tokens.verify(db, newest) is not None
    assert api_tokens.revoke(db, "zammad", "cli:admin") == 3  # the token and both predecessors
    assert all(api_tokens.verify(db, t) is None for t in (old, new, newest))


def test_rotating_or_revoking_an_unknown_token_and_bad_input_are_refused(db: Session) -> None:
    with pytest.raises(UnknownToken):
        api_tokens.rotate(db, "gibtsnicht", "cli:root")
    with pytest.raises(TokenError, match="unknown scope tickets:delete"):
        api_tokens.create(db, "x-tool", ["tickets:delete"], None, "cli:root")
    with pytest.raises(TokenError, match="at least one scope"):
        api_tokens.create(db, "x-tool", [], None, "cli:root")
    with pytest.raises(TokenError, match="token name"):
        api_tokens.create(db, "a~b", ["tickets:read"], None, "cli:root")
    with pytest.raises(TokenError, match="unknown agency 'cdorf'; this deployment serves adorf, bdorf"):
        api_tokens.create(db, "x-tool", ["tickets:read"], ["cdorf"], "cli:root", known_agencies=["adorf", "bdorf"])
    api_tokens.create(db, "x-tool", ["tickets:read"], None, "cli:root")
    with pytest.raises(TokenError, match="exists; rotate it"):
        api_tokens.create(db, "X-Tool", ["tickets:read"], None, "cli:root")
    with pytest.raises(TokenError, match="negative"):
        api_tokens.rotate(db, "x-tool", "cli:root", timedelta(hours=-1))
    assert [a[1] for a in audit(db)] == ["token_create"]


def test_principal_scopes_and_agencies() -> None:
    helpdesk = Principal("adorf-helpdesk", frozenset({"tickets:read"}), frozenset({"adorf"}))
    assert helpdesk.allows("tickets:read") and not helpdesk.allows("tickets:write")
    assert helpdesk.sees("adorf", "musterstadt") and not helpdesk.sees("bdorf", "musterstadt")
    assert not helpdesk.sees(None, "musterstadt")  # a ticket without an agency is the default agency's
    assert Principal("x", frozenset(), frozenset({"musterstadt"})).sees(None, "musterstadt")
    assert Principal("alle", frozenset()).sees("bdorf", "musterstadt") and helpdesk.actor == "token:adorf-helpdesk"


def test_the_token_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("AUSKUNFT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("bot.staff.token_cli.actor", lambda: "cli:pruefer")
    from bot.config.settings import get_settings
    get_settings.cache_clear()
    assert main(["token", "create", "helpdesk", "--scope", "tickets:read", "--scope", "tickets:write"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("ak_") and "\n" not in token and "shown only now" in out.err
    assert main(["token", "create", "helpdesk", "--scope", "tickets:read"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["token", "create", "fremd", "--scope", "tickets:read", "--agency", "nirgendwo"]) == 1
    assert "unknown agency 'nirgendwo'" in capsys.readouterr().err
    assert main(["token", "rotate", "helpdesk", "--grace", "1"]) == 0
    rotated = capsys.readouterr().out.strip()
    assert rotated.startswith("ak_") and rotated != token
    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "helpdesk " in listing and "tickets:read,tickets:write" in listing and "expires" in listing
    assert token not in listing and rotated not in listing
    assert main(["token", "revoke", "helpdesk"]) == 0
    assert "2 token(s)" in capsys.readouterr().out
    assert main(["token", "revoke", "helpdesk"]) == 2
    assert main(["token", "rotate", "niemand"]) == 2
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'tickets.sqlite3'}")
    with session_factory(engine)() as session:
        assert [(a, b) for a, b, _ in audit(session)] == [("cli:pruefer", "token_create"),
                                                          ("cli:pruefer", "token_rotate"),
                                                          ("cli:pruefer", "token_revoke")]
    engine.dispose()
    get_settings.cache_clear()
