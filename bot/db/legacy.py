"""Databases made before Alembic: recognise them and complete them to the baseline schema (revision ``0001``).

Releases before Alembic created missing tables at start-up and added new nullable columns with ``ALTER TABLE``, but
never the indexes of those columns. Such a database has some of the baseline tables and no ``alembic_version``; here
it gets the tables, nullable columns and indexes of :mod:`bot.db.migrations.baseline` it lacks, so that stamping it
with ``0001`` tells the truth. Nothing is dropped or changed; a missing required column is an error to fix by hand.
"""

from __future__ import annotations

from typing import List

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db.migrations import baseline
from bot.errors import AuskunftError


class LegacySchemaError(AuskunftError, RuntimeError):
    """A database made before Alembic lacks a required (NOT NULL) baseline column: add it by hand."""


def is_legacy(connection: Connection) -> bool:
    """Whether the database holds any baseline table (and, the caller has checked, no Alembic revision)."""
    present = set(inspect(connection).get_table_names())
    return any(name in present for name in baseline.metadata.tables)


def complete_to_baseline(connection: Connection) -> List[str]:
    """Add the baseline tables, nullable columns and indexes the database lacks.

    Returns:
        What was added, in order: ``table NAME``, ``TABLE.COLUMN`` and ``index NAME`` entries.

    Raises:
        LegacySchemaError: a baseline column that is required (NOT NULL) is missing from an existing table.
    """
    inspector = inspect(connection)
    operations = Operations(MigrationContext.configure(connection))
    added: List[str] = []
    for table in baseline.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(connection)
            added.append(f"table {table.name}")
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise LegacySchemaError(f"the database lacks the required column {table.name}.{column.name}; "
                                   "add it by hand, then start again")
            operations.add_column(table.name, column.copy())
            added.append(f"{table.name}.{column.name}")
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            if index.name not in indexes:
                index.create(connection)
                added.append(f"index {index.name}")
    return added
