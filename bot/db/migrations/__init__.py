"""Alembic migrations of the ticket database: ``env.py``, the revision template and ``versions/`` (one file each)."""
