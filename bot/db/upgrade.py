"""Bring the ticket database to the newest Alembic revision at start-up (what every process does before serving).

One transaction does it all, so that several processes starting at once migrate once: PostgreSQL takes an advisory
lock, SQLite a write lock (``BEGIN IMMEDIATE``, with foreign keys off so that a batch ALTER, which copies and drops a
table, cannot cascade deletes). A database made before Alembic (tables, no ``alembic_version``) is first completed
to revision ``0001`` and stamped (:mod:`bot.db.legacy`); then every newer revision runs.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from bot.db import legacy
from bot.db.migrations import baseline

log = logging.getLogger(__name__)
SCRIPTS = Path(__file__).resolve().parent / "migrations"
PG_LOCK_KEY = 0x41555347  # "AUSG": the advisory lock all start-ups take while migrating


def alembic_config(connection: Optional[Connection] = None, scripts: Path = SCRIPTS) -> Config:
    """Alembic's configuration for the scripts in ``scripts`` (``bot/db/migrations``), bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(scripts))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in ``bot/db/migrations/versions``."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions in {SCRIPTS / 'versions'}")
    return head


def current_revision(connection: Connection) -> Optional[str]:
    """The revision the database is at (``None``: never migrated by Alembic)."""
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other start-up can enter at the same time; commits on success."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
            connection.commit()
        try:
            with connection.begin():
                if sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite would not begin before DDL
                elif connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
                yield connection
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade_to_head(engine: Engine, scripts: Path = SCRIPTS) -> str:
    """Upgrade the database behind ``engine`` to the newest revision (idempotent); returns that revision.

    Args:
        engine: the ticket database.
        scripts: the Alembic script directory (tests pass a copy with extra revisions).
    """
    with _locked(engine) as connection:
        before = current_revision(connection)
        if before is None and legacy.is_legacy(connection):
            added = legacy.complete_to_baseline(connection)
            command.stamp(alembic_config(connection, scripts), baseline.REVISION)
            log.info("ticket database made before Alembic: completed (%s) and stamped %s",
                     ", ".join(added) or "nothing missing", baseline.REVISION)
        command.upgrade(alembic_config(connection, scripts), "head")
        after = current_revision(connection) or ""
    if after != before:
        log.info("ticket database upgraded from %s to %s", before or "nothing", after)
    return after
