"""Erase one citizen's conversation from the tracker store Rasa uses (DSGVO Art. 17).

Builds the same connection as Rasa 3.6's ``rasa.core.tracker_store`` from ``endpoints.yml``, without importing Rasa.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from bot.conversations.store_types import is_sql_store, url_query
from bot.errors import AuskunftError

if TYPE_CHECKING:
    import redis
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

REDIS_KEY_PREFIX = "tracker:"  # rasa.core.tracker_store.DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX
MAX_SENDER_ID_LENGTH = 128
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class EraseUnsupported(AuskunftError, ValueError):
    """The configured tracker store is not one a conversation can be erased from."""


def _expand(value: Any, environ: Mapping[str, str], path: Path) -> Any:
    """Substitute every ``${VAR}`` in the strings of ``value`` (recursively) from ``environ``."""
    if isinstance(value, dict):
        return {key: _expand(item, environ, path) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, environ, path) for item in value]

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) not in environ:
            raise ValueError(f"Environment variable '{match.group(1)}' used in {path} is not set.")
        return environ[match.group(1)]

    return _VARIABLE.sub(substitute, value) if isinstance(value, str) else value


def _str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def tracker_store_config(path: Path, environ: Mapping[str, str]) -> Tuple[str, Dict[str, Any]]:
    """The ``tracker_store`` type of a Rasa endpoints file and its other settings, not yet substituted.

    The type's own ``${VAR}``s are substituted; the settings' are substituted by :func:`expand_variables` once the
    caller knows it needs them (a store it does not read need not have its variables set).

    Raises:
        OSError, yaml.YAMLError: the file cannot be read.
        ValueError: a variable used in the type is not set.
    """
    content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    section = content.get("tracker_store") if isinstance(content, dict) else None
    config = dict(section) if isinstance(section, dict) else {}
    kind = config.pop("store_type", config.pop("type", None))  # as Rasa's EndpointConfig
    return str(_expand(kind, environ, Path(path)) or "in_memory"), config


def expand_variables(config: Dict[str, Any], environ: Mapping[str, str], path: Path) -> Dict[str, Any]:
    """``config`` with every ``${VAR}`` substituted from ``environ`` (into values, never into YAML).

    Raises:
        ValueError: a variable is not set.
    """
    return dict(_expand(config, environ, Path(path)) or {})


def sql_engine(config: Mapping[str, Any], environ: Mapping[str, str]) -> Engine:
    """The engine for the database ``SQLTrackerStore`` opens with ``config`` (see its ``get_db_url``)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    host = _str(config.get("url"))
    if host and "://" in host:  # a complete database URL, taken as is
        url = sa.engine.make_url(host)
    else:
        port = config.get("port")
        if host:  # a port in the host wins
            parsed = urlsplit(f"scheme://{host}")
            port, host = parsed.port or port, parsed.hostname or host
        url = sa.engine.URL.create(
            str(config.get("dialect", "sqlite")), username=_str(config.get("username")),
            password=_str(config.get("password")), host=host, port=None if port is None else int(port),
            database=_str(config.get("db", "rasa.db")),
            query=url_query(config.get("query")))  # an empty ${VAR} (sslmode) = the driver's default, as the store
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise EraseUnsupported("The SQLite tracker store is in memory: it lives inside the Rasa process and vanishes "
                               "on restart. Configure a database file ('db') to erase conversations.")
    if backend not in ("sqlite", "postgresql"):
        raise EraseUnsupported(f"Erasing from the SQL dialect '{backend}' is not supported; use sqlite or postgresql.")
    schema = environ.get("POSTGRESQL_SCHEMA")  # Rasa keeps its tables there (search_path)
    connect_args = {"options": f"-csearch_path={schema}"} if backend == "postgresql" and schema else {}
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _redis_client(config: Mapping[str, Any]) -> Tuple[redis.Redis, str]:
    """The client ``RedisTrackerStore`` opens with ``config``, and its key prefix.

    Rasa's prefix is ``<key_prefix>:tracker:`` for an alphanumeric ``key_prefix``; any other is ignored (``tracker:``).
    """
    import redis

    prefix = config.get("key_prefix")
    prefix = f"{prefix}:{REDIS_KEY_PREFIX}" if isinstance(prefix, str) and prefix.isalnum() else REDIS_KEY_PREFIX
    return redis.Redis(
        host=str(config.get("url") or "localhost"), port=int(config.get("port", 6379)), db=int(config.get("db", 0)),
        username=_str(config.get("username")), password=_str(config.get("password")),
        ssl=bool(config.get("use_ssl", False)),  # truthiness, as Rasa passes it on
        ssl_keyfile=config.get("ssl_keyfile"), ssl_certfile=config.get("ssl_certfile"),
        ssl_ca_certs=config.get("ssl_ca_certs")), prefix


class TrackerEraser:
    """Deletes every stored event of one conversation from the tracker store Rasa uses."""

    def __init__(self, engine: Optional[Engine] = None, redis_client: Optional[redis.Redis] = None,
                 key_prefix: str = REDIS_KEY_PREFIX) -> None:
        """Erase from a database with Rasa's ``events`` table, or the Redis keys ``key_prefix + sender_id``."""
        if (engine is None) == (redis_client is None):
            raise ValueError("TrackerEraser needs exactly one of engine and redis_client.")
        self.engine, self.redis, self.key_prefix = engine, redis_client, key_prefix

    @classmethod
    def from_endpoints(cls, path: Path, environ: Optional[Mapping[str, str]] = None) -> TrackerEraser:
        """Build the eraser for the ``tracker_store`` of a Rasa ``endpoints.yml``.

        Args:
            path: The endpoints file Rasa runs with.
            environ: Values for ``${VAR}`` in the ``tracker_store`` section; defaults to ``os.environ``.

        Raises:
            ValueError: A variable used in the section is not set.
            EraseUnsupported: The tracker store keeps no data outside Rasa, or is of an unsupported type.
        """
        path, environ = Path(path), os.environ if environ is None else environ
        kind, raw = tracker_store_config(path, environ)
        config = expand_variables(raw, environ, path)
        if kind.lower() == "in_memory":
            raise EraseUnsupported(
                f"{path} uses the in-memory tracker store: its conversations live inside the Rasa process and vanish "
                "on restart, and cannot be erased from outside. Configure the SQL or redis tracker store.")
        if is_sql_store(kind):
            return cls(engine=sql_engine(config, environ))
        if kind.lower() == "redis":
            client, prefix = _redis_client(config)
            return cls(redis_client=client, key_prefix=prefix)
        raise EraseUnsupported(f"Erasing from the tracker store type '{kind}' ({path}) is not supported; "
                               "configure the SQL or redis tracker store.")

    def erase(self, sender_id: str) -> int:
        """Delete the conversation of ``sender_id``; returns the number of rows (SQL) or keys (Redis) removed."""
        if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SENDER_ID_LENGTH:
            raise ValueError(f"sender_id must be a non-empty string of at most {MAX_SENDER_ID_LENGTH} characters.")
        if self.redis is not None:
            removed = int(self.redis.delete(self.key_prefix + sender_id))
        elif not self._has_events_table(must_exist=True):
            removed = 0  # Rasa has not stored anything yet
        else:
            removed = self._erase_sql(sender_id)
        logger.info("Erased one conversation from the tracker store: %d row(s)/key(s) removed.", removed)
        return removed

    def _has_events_table(self, must_exist: bool = False) -> bool:
        """True if the database has Rasa's ``events`` table (Rasa creates it when it first opens the store).

        A fresh deployment's retention may run before that; a missing table then means nothing is stored yet. Every
        other error (unreachable server, wrong password, no permission) is raised.

        Args:
            must_exist: raise ``FileNotFoundError`` for a missing SQLite file (else: no table, without creating it).
        """
        import sqlalchemy as sa

        assert self.engine is not None
        if self.engine.url.get_backend_name() == "sqlite" and not Path(str(self.engine.url.database)).is_file():
            if must_exist:  # connecting would create an empty file
                raise FileNotFoundError(f"SQLite tracker database {self.engine.url.database} does not exist.")
            return False
        with self.engine.connect() as connection:  # the search_path (POSTGRESQL_SCHEMA) decides, as for Rasa
            return bool(sa.inspect(connection).has_table("events"))

    def _erase_sql(self, sender_id: str) -> int:
        import sqlalchemy as sa

        assert self.engine is not None
        sqlite = self.engine.url.get_backend_name() == "sqlite"
        if sqlite and not Path(str(self.engine.url.database)).is_file():  # connecting would create an empty file
            raise FileNotFoundError(f"SQLite tracker database {self.engine.url.database} does not exist.")
        with self.engine.begin() as connection:
            if sqlite:  # overwrite the deleted rows in the file instead of leaving them in free pages
                connection.exec_driver_sql("PRAGMA secure_delete = ON")
            result = connection.execute(sa.text("DELETE FROM events WHERE sender_id = :sender_id"),
                                        {"sender_id": sender_id})
        if sqlite:  # copy the overwritten pages from a write-ahead log into the file, and empty the log
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(result.rowcount)

    def erase_inactive(self, before: float) -> int:
        """Delete every conversation whose last event is older than ``before`` (a Unix time): retention.

        Returns:
            The number of conversations removed.
        """
        if self.redis is not None:
            return self._erase_inactive_redis(before)
        import sqlalchemy as sa

        assert self.engine is not None
        if not self._has_events_table():  # a fresh deployment: Rasa has not created its table yet
            return 0
        with self.engine.connect() as connection:
            stale = [row[0] for row in connection.execute(
                sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :before"),
                {"before": before})]
        for sender_id in stale:
            self._erase_sql(sender_id)
        if stale:
            logger.info("Retention: erased %d inactive conversation(s) from the tracker store.", len(stale))
        return len(stale)

    def _erase_inactive_redis(self, before: float) -> int:
        assert self.redis is not None
        removed = 0
        for key in self.redis.scan_iter(match=self.key_prefix + "*", count=500):
            raw = self.redis.get(key)
            try:
                events = json.loads(raw or b"{}").get("events") or []
                last = max(float(e.get("timestamp") or 0) for e in events) if events else 0.0
            except (ValueError, AttributeError, TypeError):
                continue  # not a tracker we understand: leave it alone
            if last < before:
                removed += int(self.redis.delete(key))
        return removed

    def close(self) -> None:
        """Release the database connections or the Redis client."""
        if self.engine is not None:
            self.engine.dispose()
        if self.redis is not None:
            self.redis.close()
