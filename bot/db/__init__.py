"""The ticket database: declarative base (``base``), engines and sessions (``engine``), Alembic migrations.

Every ``models.py`` imports :data:`bot.db.base.Base`; nothing in this package imports a feature package at import
time (``catalog`` loads every model module on demand, for autogenerate and the schema tests).
"""
