"""Tools for kb editors: reports on how the bot sees the knowledge base."""
