"""Alembic's environment: runs the revisions on the connection ``bot.db.upgrade`` passes, or on the configured database.

At start-up the application calls :func:`bot.db.upgrade.upgrade_to_head`, which hands its open connection (inside a
locked transaction) over in ``config.attributes["connection"]``. From the command line (``alembic -c alembic.ini
...``) there is none: the URL is ``-x url=...``, else ``sqlalchemy.url`` in the ini file, else the application's
setting (``AUSKUNFT_DATABASE_URL`` / ``AUSKUNFT_HOME``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.db import catalog

config = context.config
target_metadata = catalog.metadata()  # every table, for ``alembic revision --autogenerate``


def run_on(connection: Connection) -> None:
    """Run the pending revisions on ``connection`` (batch mode on SQLite, whose ALTER TABLE is limited)."""
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    """The URL to migrate when Alembic runs from the command line."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config.settings import get_settings

    return get_settings().resolved_database_url


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: revision 0001 builds its tables from "
                     "bot.db.migrations.baseline on a live connection")
given = config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    from bot.db.engine import make_engine

    engine = make_engine(database_url(), migrate=False)
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()
