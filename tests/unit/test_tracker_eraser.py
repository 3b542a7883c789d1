"""TrackerEraser: endpoints.yml parsing like Rasa's, and a real SQLite erase on Rasa's ``events`` schema (no Rasa)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.conversations.erase import EraseUnsupported, TrackerEraser
from tests.conftest import ROOT
from tests.helpers.tracker_store import SQLITE_ENDPOINTS, tracker_db, write_endpoints


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id").fetchall()
    db.close()
    return dict(rows)


def test_sqlite_erases_one_conversation_and_leaves_the_other(tmp_path: Path) -> None:
    db = tracker_db(tmp_path / "trackers.sqlite3", {"alice": ["Wohngeld?", "Danke"], "bob": ["Personalausweis?"]})
    # only the tracker_store section is expanded: the unset action URL variable does not matter
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
    try:
        assert eraser.erase("alice") == 4
        assert counts(db) == {"bob": 2}
        assert eraser.erase("alice") == 0
        assert eraser.erase("x' OR '1'='1") == 0  # bound parameter, not SQL
        assert eraser.erase("bob") == 2
        assert counts(db) == {}
    finally:
        eraser.close()


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_sqlite_erased_text_is_gone_from_the_files(tmp_path: Path, wal: bool) -> None:
    secret = "Meine Steuernummer ist GEHEIM-4711"
    db = tracker_db(tmp_path / "t.sqlite3", {"alice": [secret] * 50, "bob": ["Hallo"]}, wal=wal)
    files = [db, db.with_name(db.name + "-wal")]
    assert any(secret.encode() in f.read_bytes() for f in files if f.exists())
    rasa = sqlite3.connect(db)  # another open connection (Rasa's), so closing ours does not checkpoint the log
    try:
        rasa.execute("SELECT COUNT(*) FROM events").fetchone()
        eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
        assert eraser.erase("alice") == 100
        eraser.close()
        assert not any(secret.encode() in f.read_bytes() for f in files if f.exists())
        assert rasa.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id").fetchall() == [("bob", 2)]
    finally:
        rasa.close()


def test_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "nowhere.sqlite3"
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
    with pytest.raises(FileNotFoundError, match="nowhere.sqlite3"):
        eraser.erase("alice")
    assert not db.exists()


def test_unset_variable_is_named_with_the_file(tmp_path: Path) -> None:
    path = write_endpoints(tmp_path, SQLITE_ENDPOINTS)
    with pytest.raises(ValueError, match="TRACKER_DB") as error:
        TrackerEraser.from_endpoints(path, {})
    assert str(path) in str(error.value)


def test_postgresql_url_is_built_like_rasa_and_hides_the_password(tmp_path: Path) -> None:
    path = write_endpoints(tmp_path, (ROOT / "endpoints.scale-out.yml").read_text(encoding="utf-8"))
    environ = {"AUSKUNFT_PG_HOST": "db.internal", "AUSKUNFT_PG_PORT": "5433", "AUSKUNFT_PG_DB": "auskunft",
               "AUSKUNFT_PG_USER": "rasa", "AUSKUNFT_PG_PASSWORD": "s3cr3t#: x", "AUSKUNFT_PG_SSLMODE": "verify-full"}
    eraser = TrackerEraser.from_endpoints(path, environ)
    url = eraser.engine.url if eraser.engine is not None else None
    assert url is not None
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql", "db.internal", 5433, "auskunft", "rasa", "s3cr3t#: x")
    assert dict(url.query) == {"sslmode": "verify-full"}
    empty = TrackerEraser.from_endpoints(path, {**environ, "AUSKUNFT_PG_SSLMODE": ""})  # libpq's default
    assert empty.engine is not None and dict(empty.engine.url.query) == {}
    assert "s3cr3t" not in repr(url)


def test_connection_errors_and_logs_do_not_show_the_password(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy.exc import OperationalError

    text = "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 1\n  db: rasa\n" \
           "  username: rasa\n  password: ${PW}\n"
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, text), {"PW": "s3cr3t-pw"})
    caplog.set_level("DEBUG")
    with pytest.raises(OperationalError) as error:
        eraser.erase("alice")
    assert "port 1" in str(error.value) or "127.0.0.1" in str(error.value)
    assert "s3cr3t" not in str(error.value) and "s3cr3t" not in caplog.text


def test_sql_host_may_carry_port_or_be_a_full_url(tmp_path: Path) -> None:
    base = "tracker_store:\n  type: SQL\n  dialect: postgresql\n  db: rasa\n  port: 5432\n"
    with_port = TrackerEraser.from_endpoints(write_endpoints(tmp_path, base + "  url: db.internal:6000\n"), {})
    assert with_port.engine is not None and (with_port.engine.url.host, with_port.engine.url.port) == (
        "db.internal", 6000)
    full = TrackerEraser.from_endpoints(write_endpoints(tmp_path, base + "  url: postgresql://u@elsewhere/other\n"), {})
    assert full.engine is not None and (full.engine.url.host, full.engine.url.database) == ("elsewhere", "other")
    query = TrackerEraser.from_endpoints(write_endpoints(tmp_path, base + "  url: h\n  query:\n    sslmode: ${MODE}\n"),
                                         {"MODE": "require"})
    assert query.engine is not None and dict(query.engine.url.query) == {"sslmode": "require"}


@pytest.mark.parametrize(("key_prefix", "expected"), [(None, "tracker:"), ("auskunft", "auskunft:tracker:"),
                                                      ("not-alnum", "tracker:"), ("${PREFIX}", "p1:tracker:")])
def test_redis_key_naming_follows_rasa(tmp_path: Path, key_prefix: str | None, expected: str) -> None:
    text = "tracker_store:\n  type: redis\n  url: ${REDIS_HOST}\n  port: 6390\n  db: 3\n  password: pw\n"
    if key_prefix is not None:
        text += f"  key_prefix: {key_prefix}\n"
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, text), {"REDIS_HOST": "cache.internal", "PREFIX": "p1"})
    assert eraser.redis is not None and eraser.key_prefix == expected
    kwargs = eraser.redis.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("cache.internal", 6390, 3, "pw")


@pytest.mark.parametrize("text", ["action_endpoint:\n  url: http://x\n", "tracker_store:\n  type: in_memory\n",
                                  "tracker_store:\n  url: localhost\n", "",
                                  "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: ':memory:'\n"])
def test_in_memory_trackers_cannot_be_erased(tmp_path: Path, text: str) -> None:
    with pytest.raises(EraseUnsupported, match="in memory|in-memory") as error:
        TrackerEraser.from_endpoints(write_endpoints(tmp_path, text), {})
    assert "vanish" in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(("text", "named"), [
    ("tracker_store:\n  type: mongod\n  url: mongodb://localhost:27017\n", "mongod"),
    ("tracker_store:\n  type: dynamo\n  tablename: t\n", "dynamo"),
    ("tracker_store:\n  type: addons.custom_tracker_store.MyStore\n", "addons.custom_tracker_store.MyStore"),
    ("tracker_store:\n  type: SQL\n  dialect: mysql\n  url: localhost\n  db: rasa\n", "mysql"),
])
def test_other_store_types_are_unsupported(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(EraseUnsupported, match=named):
        TrackerEraser.from_endpoints(write_endpoints(tmp_path, text), {})


@pytest.mark.parametrize("sender_id", ["", None, 42, "x" * 129])
def test_bad_sender_id_is_rejected(tmp_path: Path, sender_id: object) -> None:
    db = tracker_db(tmp_path / "t.sqlite3", {"x" * 128: ["a"]})
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
    with pytest.raises(ValueError, match="sender_id"):
        eraser.erase(sender_id)  # type: ignore[arg-type]
    assert eraser.erase("x" * 128) == 2  # the longest allowed id works


def test_module_does_not_import_rasa() -> None:
    code = "import sys, bot.conversations.erase; assert not any(m.split('.')[0] == 'rasa' for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_no_events_table_yet_is_nothing_stored(tmp_path: Path) -> None:
    """A fresh deployment: the retention may run before Rasa created its table (SQLite file without it)."""
    db = tmp_path / "fresh.sqlite3"
    sqlite3.connect(db).close()  # the file exists (prepare_tracker_db), Rasa has not opened it yet
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
    try:
        assert eraser.erase_inactive(time.time()) == 0
        assert eraser.erase("alice") == 0
    finally:
        eraser.close()


def test_other_database_errors_are_not_taken_for_a_missing_table(tmp_path: Path) -> None:
    import sqlalchemy as sa

    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"this is not an SQLite database" * 200)
    eraser = TrackerEraser.from_endpoints(write_endpoints(tmp_path, SQLITE_ENDPOINTS), {"TRACKER_DB": str(db)})
    try:
        with pytest.raises(sa.exc.DatabaseError, match="not a database"):
            eraser.erase_inactive(time.time())
        with pytest.raises(sa.exc.DatabaseError, match="not a database"):
            eraser.erase("alice")
    finally:
        eraser.close()
