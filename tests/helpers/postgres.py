"""Throwaway PostgreSQL databases for tests that run on SQLite and PostgreSQL.

The server is ``AUSKUNFT_TEST_PG`` (default: the local one at 127.0.0.1:5432). ``DATABASES`` is the parameter list for
such fixtures: the PostgreSQL case is skipped only where no server answers and the run is not on CI.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN = os.environ.get("AUSKUNFT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_url() -> str:
    """Create a fresh, uniquely named database and return its URL (drop it with :func:`drop_postgres`)."""
    import psycopg2

    name = f"auskunft_test_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(PG_ADMIN, connect_timeout=3)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    conn.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str) -> None:
    """Drop the database at ``url`` (made by :func:`postgres_url`), closing its open connections."""
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    conn.cursor().execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    conn.close()


def postgres_available() -> bool:
    """Whether the PostgreSQL server answers within two seconds."""
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN, connect_timeout=2).close()
        return True
    except Exception:
        return False


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not postgres_available() and not os.environ.get("CI"),
    reason="no PostgreSQL at 127.0.0.1:5432 on this machine (CI always has one and runs this)"))]
