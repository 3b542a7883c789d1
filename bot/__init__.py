"""Auskunft: an FAQ self-service chatbot for public agencies."""

__version__ = "0.1.0"
