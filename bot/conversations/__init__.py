"""Conversation data Rasa keeps about citizens, and erasing it on request."""
