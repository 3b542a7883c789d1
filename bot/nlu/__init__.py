"""Rasa NLU adapters: the FAQ retriever component and the German spaCy pipeline."""
