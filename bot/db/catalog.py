"""Every model module of the ticket database, loaded on demand so that ``Base.metadata`` holds every table.

Only the migration tooling needs the complete metadata (``alembic revision --autogenerate`` and the schema tests);
the application imports the models it uses and leaves the schema to the migrations.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from bot.db.base import Base

MODEL_MODULES = ("bot.tickets.models", "bot.staff.models", "bot.feedback.models", "bot.helpdesk.models",
                 "bot.suggestions.models", "bot.limits.models")


def metadata() -> MetaData:
    """``Base.metadata`` after importing every module in :data:`MODEL_MODULES`."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
