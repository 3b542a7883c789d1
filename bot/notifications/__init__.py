"""Telling citizens by e-mail that their case has an answer."""
