"""Personal data handling: redaction before anything is stored or logged."""

from bot.privacy.redact import Span, find_personal_data, redact

__all__ = ["Span", "find_personal_data", "redact"]
