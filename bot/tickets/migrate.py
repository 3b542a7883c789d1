"""Bring an existing ticket database up to the current tables (idempotent, additive only).

``create_all`` makes missing tables but never adds columns to existing ones; databases made by
an earlier version get the new nullable columns here, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateColumn

from bot.tickets.models import Base

log = logging.getLogger(__name__)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add columns the models have and the tables lack; returns ``table.column`` for each added."""
    added: list[str] = []
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"cannot add required column {table.name}.{column.name} to an existing database; "
                                   "migrate it by hand")
            ddl = CreateColumn(column).compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
            added.append(f"{table.name}.{column.name}")
            log.info("ticket database: added column %s.%s", table.name, column.name)
    return added
