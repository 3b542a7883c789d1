"""The agent inbox: staff logins (agents), their sessions and passwords."""
