"""Measure answer quality with the live bot's retrieval and decision function."""
