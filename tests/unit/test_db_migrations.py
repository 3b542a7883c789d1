"""Alembic migrations of the ticket database on real SQLite and PostgreSQL: fresh databases, databases made before
Alembic (adopted, stamped, upgraded, their rows kept), concurrent start-ups, downgrade, and the ``alembic`` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import catalog
from bot.db.engine import make_engine
from bot.db.legacy import LegacySchemaError
from bot.db.migrations import baseline
from bot.db.upgrade import SCRIPTS, alembic_config, current_revision, head_revision, upgrade_to_head
from bot.tickets.models import Ticket
from tests.conftest import ROOT
from tests.helpers.postgres import DATABASES, drop_postgres, postgres_url

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database (dropped afterwards)."""
    address = f"sqlite:///{tmp_path / 'tickets.sqlite3'}" if request.param == "sqlite" else postgres_url()
    yield address
    if request.param == "postgresql":
        drop_postgres(address)


@pytest.fixture
def raw(url: str) -> Iterator[Engine]:
    """An engine on ``url`` that migrates nothing (to build old databases with)."""
    engine = make_engine(url, migrate=False)
    yield engine
    engine.dispose()


def differences(engine: Engine) -> List[Any]:
    """What autogenerate would change to make the database match the models (empty: identical)."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                     catalog.metadata()))


def revision(engine: Engine) -> Any:
    with engine.connect() as connection:
        return current_revision(connection)


def table_names(engine: Engine) -> set:
    return set(sa.inspect(engine).get_table_names())


def insert_ticket(engine: Engine, table: sa.Table) -> None:
    """One ticket and one reply, written with the given (old) table definition."""
    values = {"id": 1, "case_number": "AK-OLD1-0001", "conversation_id": "alt", "status": "waiting",
              "language": "de", "reason": "no_answer", "question": "Wo beantrage ich einen Personalausweis?",
              "candidates": [], "transcript": [{"role": "user", "text": "Hallo"}], "consent": True,
              "email": None, "index_version": "v1", "created_at": NOW, "updated_at": NOW, "closed_at": None}
    with engine.begin() as connection:
        connection.execute(table.insert().values(**{k: v for k, v in values.items() if k in table.c}))
        connection.execute(baseline.metadata.tables["replies"].insert().values(
            id=1, ticket_id=1, author="Frau Amt", text="Im Bürgerbüro.", created_at=NOW))


def test_a_fresh_database_gets_head_and_matches_the_models(url: str) -> None:
    engine = make_engine(url)
    assert revision(engine) == head_revision()
    assert set(catalog.metadata().tables) | {"alembic_version"} == table_names(engine)
    assert differences(engine) == []
    with engine.connect() as connection:
        command.check(alembic_config(connection))  # autogenerate through env.py finds nothing to do
    assert upgrade_to_head(engine) == head_revision()  # idempotent
    engine.dispose()


def test_the_last_release_before_alembic_is_stamped_and_upgraded_with_its_rows(url: str, raw: Engine) -> None:
    baseline.metadata.create_all(raw)  # what that release's create_all left: every table, no alembic_version
    insert_ticket(raw, baseline.metadata.tables["tickets"])
    assert "alembic_version" not in table_names(raw) and revision(raw) is None

    engine = make_engine(url)
    assert revision(engine) == head_revision()
    assert differences(engine) == []
    with Session(engine) as session:
        ticket = session.execute(sa.select(Ticket)).scalar_one()
        assert (ticket.case_number, ticket.status, ticket.transcript) == ("AK-OLD1-0001", "waiting",
                                                                          [{"role": "user", "text": "Hallo"}])
        assert [reply.text for reply in ticket.replies] == ["Im Bürgerbüro."]
    engine.dispose()


def test_the_first_release_gets_the_missing_tables_columns_and_indexes(url: str, raw: Engine) -> None:
    old = sa.MetaData()  # the first release (tickets, replies), plus one column as the old ALTER code added it
    first = [c.copy() for c in baseline.metadata.tables["tickets"].columns
             if c.name not in {"agency", "department", "assignee", "holds_conversation", "first_reply_at",
                               "out_of_hours"}]
    tickets = sa.Table("tickets", old, *first, sa.Column("department", sa.String(60)))  # no index
    baseline.metadata.tables["replies"].to_metadata(old)
    old.create_all(raw)
    insert_ticket(raw, tickets)

    engine = make_engine(url)
    assert revision(engine) == head_revision()
    assert differences(engine) == []  # columns, tables (agents, deliveries, ...) and the indexes of new columns
    assert {"ix_tickets_department", "ix_tickets_assignee", "ix_tickets_agency"} <= {
        index["name"] for index in sa.inspect(engine).get_indexes("tickets")}
    with Session(engine) as session:
        ticket = session.execute(sa.select(Ticket)).scalar_one()
        assert (ticket.question, ticket.department, ticket.assignee) == (
            "Wo beantrage ich einen Personalausweis?", None, None)
    engine.dispose()


def test_a_missing_required_column_stops_the_start_and_changes_nothing(url: str, raw: Engine) -> None:
    old = sa.MetaData()
    sa.Table("feedback", old, *[c.copy() for c in baseline.metadata.tables["feedback"].columns if c.name != "faq_id"])
    old.create_all(raw)
    with pytest.raises(LegacySchemaError, match=r"feedback\.faq_id"):
        make_engine(url)
    assert table_names(raw) == {"feedback"}  # one transaction: no half-made schema, no stamp


@pytest.mark.timeout(120)
def test_concurrent_start_ups_migrate_once(url: str) -> None:
    errors: List[BaseException] = []
    engines: List[Engine] = []

    def start() -> None:
        try:
            engines.append(make_engine(url))
        except BaseException as error:  # noqa: B036  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(engines) == 4
    assert {revision(engine) for engine in engines} == {head_revision()}
    with engines[0].connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    for engine in engines:
        engine.dispose()


def test_downgrade_to_nothing_and_back(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert table_names(engine) == {"alembic_version"} and revision(engine) is None
    upgrade_to_head(engine)
    assert revision(engine) == head_revision() and differences(engine) == []
    engine.dispose()



def test_revision_0003_adds_the_phrasing_suggestions_and_keeps_the_tickets(url: str, raw: Engine) -> None:
    with raw.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
    insert_ticket(raw, baseline.metadata.tables["tickets"])
    assert "phrasing_suggestions" not in table_names(raw)
    with raw.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
    raw.dispose()
    engine = make_engine(url)  # foreign keys on, as the services run
    assert revision(engine) == head_revision() and differences(engine) == []
    suggestions = catalog.metadata().tables["phrasing_suggestions"]
    row = {"ticket_id": 1, "agency": None, "faq_id": "personalausweis", "question": "Perso weg?",
           "status": "pending", "linked_by": "weber", "linked_at": NOW}
    with engine.begin() as connection:
        connection.execute(suggestions.insert().values(**row))
        with pytest.raises(sa.exc.IntegrityError):  # one link per ticket
            with connection.begin_nested():
                connection.execute(suggestions.insert().values(**row))
    with engine.begin() as connection:
        connection.execute(sa.delete(baseline.metadata.tables["tickets"]))  # retention or erasure: the link goes too
        assert connection.execute(sa.select(sa.func.count()).select_from(suggestions)).scalar() == 0
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    assert "phrasing_suggestions" not in table_names(engine) and "tickets" in table_names(engine)
    engine.dispose()


def test_revision_0005_adds_the_staff_audit_and_keeps_the_agents(url: str, raw: Engine) -> None:
    with raw.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.execute(baseline.metadata.tables["agents"].insert().values(
            id=1, username="weber", display_name="Frau Weber", password_hash="x", departments=["kfz"],
            is_manager=False, active=True, created_at=NOW))
    assert "staff_audit" not in table_names(raw)
    with raw.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")
    raw.dispose()
    engine = make_engine(url)
    assert revision(engine) == head_revision() and differences(engine) == []
    assert {"ix_staff_audit_at", "ix_staff_audit_target"} <= {
        index["name"] for index in sa.inspect(engine).get_indexes("staff_audit")}
    audit = catalog.metadata().tables["staff_audit"]
    with engine.begin() as connection:
        connection.execute(audit.insert().values(at=NOW, actor="cli:root", action="disabled", target="weber",
                                                 detail={"sessions_ended": 0}))
        assert connection.execute(sa.select(audit.c.target, audit.c.detail)).one() == ("weber", {"sessions_ended": 0})
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    assert "staff_audit" not in table_names(engine) and "agents" in table_names(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT username FROM agents").scalar_one() == "weber"
    engine.dispose()


BATCH_REVISION = '''"""A revision that rebuilds the tickets table, as SQLite's batch mode does for most changes."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", recreate="always") as batch:
        batch.alter_column("reason", type_=sa.String(60))


def downgrade() -> None:
    pass
'''


def test_a_sqlite_batch_revision_keeps_the_rows_that_reference_the_rebuilt_table(tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_rebuild_tickets.py").write_text(BATCH_REVISION.format(head=head_revision()))
    engine = make_engine(f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    insert_ticket(engine, baseline.metadata.tables["tickets"])

    assert upgrade_to_head(engine, scripts) == "9999"  # copies tickets, drops the old table: no cascade
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM replies").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1  # back on afterwards
    engine.dispose()


def test_the_alembic_command_uses_the_scripts_in_the_package(tmp_path: Path) -> None:
    address = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "-x", f"url={address}"]
    subprocess.run([*alembic, "upgrade", "head"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    current = subprocess.run([*alembic, "current"], cwd=tmp_path, check=True, capture_output=True, text=True,
                             timeout=120)
    assert f"{head_revision()} (head)" in current.stdout
    engine = make_engine(address, migrate=False)
    assert differences(engine) == []
    engine.dispose()
