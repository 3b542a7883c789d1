"""The first retention round of a fresh scale-out deployment: Rasa has not created its ``events`` table yet."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversations.erase import TrackerEraser
from bot.run.runtime_env import ENDPOINT_DEFAULTS
from tests.conftest import ROOT
from tests.helpers.postgres import drop_postgres, postgres_url

pytestmark = pytest.mark.slow

ENDPOINTS = ROOT / "endpoints.scale-out.yml"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (as on a new data host before Rasa's first start); its URL."""
    url = postgres_url()
    yield url
    drop_postgres(url)


def environ_for(database: str, **overrides: str) -> Dict[str, str]:
    return {"AUSKUNFT_PG_HOST": "127.0.0.1", "AUSKUNFT_PG_PORT": "5432", "AUSKUNFT_PG_DB": database,
            "AUSKUNFT_PG_USER": "postgres", "AUSKUNFT_PG_PASSWORD": "", **ENDPOINT_DEFAULTS, **overrides}


def test_no_events_table_yet_is_nothing_stored(fresh_database: str) -> None:
    eraser = TrackerEraser.from_endpoints(ENDPOINTS, environ_for(fresh_database.rsplit("/", 1)[1]))
    try:
        assert eraser.erase_inactive(time.time()) == 0
        assert eraser.erase("citizen-1") == 0
        with sa.create_engine(fresh_database).begin() as connection:  # still nothing created by the eraser
            assert not sa.inspect(connection).has_table("events")
    finally:
        eraser.close()


def test_the_first_retention_round_runs_before_rasa(fresh_database: str, tmp_path: Path) -> None:
    from bot.db.engine import make_engine
    from bot.tickets.retention import purge

    eraser = TrackerEraser.from_endpoints(ENDPOINTS, environ_for(fresh_database.rsplit("/", 1)[1]))
    tickets = make_engine(f"sqlite:///{tmp_path / 'tickets.sqlite3'}")
    try:
        with Session(tickets) as session:
            report = purge(session, 90, eraser)
        assert (report.tickets, report.conversations) == (0, 0)
    finally:
        eraser.close()
        tickets.dispose()


def test_the_events_table_in_another_schema_is_not_ours(fresh_database: str) -> None:
    """Rasa's tables are where POSTGRESQL_SCHEMA (its search_path) says: a table elsewhere does not count."""
    with sa.create_engine(fresh_database).begin() as connection:
        connection.exec_driver_sql("CREATE SCHEMA rasa")
        connection.exec_driver_sql("CREATE TABLE public.events (sender_id text, timestamp float)")
        connection.exec_driver_sql("INSERT INTO public.events VALUES ('old', 1.0)")
    eraser = TrackerEraser.from_endpoints(ENDPOINTS, {**environ_for(fresh_database.rsplit("/", 1)[1]),
                                                      "POSTGRESQL_SCHEMA": "rasa"})
    try:
        assert eraser.erase_inactive(time.time()) == 0
    finally:
        eraser.close()
    with sa.create_engine(fresh_database).begin() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM public.events").scalar() == 1


def test_other_errors_are_raised(fresh_database: str) -> None:
    """A database that does not exist, or a table Rasa cannot read, is an error, not 'nothing stored'."""
    missing = TrackerEraser.from_endpoints(ENDPOINTS, environ_for("auskunft_no_such_database"))
    try:
        with pytest.raises(sa.exc.OperationalError, match="auskunft_no_such_database"):
            missing.erase_inactive(time.time())
        with pytest.raises(sa.exc.OperationalError, match="auskunft_no_such_database"):
            missing.erase("citizen-1")
    finally:
        missing.close()
    with sa.create_engine(fresh_database).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE events (sender_id text)")  # no timestamp column
    broken = TrackerEraser.from_endpoints(ENDPOINTS, environ_for(fresh_database.rsplit("/", 1)[1]))
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="timestamp"):
            broken.erase_inactive(time.time())
    finally:
        broken.close()
