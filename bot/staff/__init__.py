"""Staff accounts (agents, editors, managers): logins, sessions, passwords and the `auskunft agent` commands."""
