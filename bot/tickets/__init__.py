"""The ticket service: escalated conversations stored in a real database (SQLite or PostgreSQL)."""
