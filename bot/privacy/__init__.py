"""Personal data handling: redaction before anything is stored or logged."""

from bot.privacy.redact import redact

__all__ = ["redact"]
