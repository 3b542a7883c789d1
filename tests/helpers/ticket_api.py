"""The ticket API's test token, its ``Authorization`` header and a valid ticket payload."""

from __future__ import annotations

from typing import Any, Dict

TOKEN = "test-token-1234567890-abcdefghijklmn"  # at least 32 characters (settings)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def ticket(**overrides: Any) -> Dict[str, Any]:
    """A valid ``POST /api/tickets`` body (with a phone number and an e-mail to redact), fields replaced by
    ``overrides``."""
    data: Dict[str, Any] = {
        "case_number": "AK-7KQ2-M9XD",
        "conversation_id": "conv-1",
        "language": "de",
        "reason": "low_confidence",
        "question": "Wie bekomme ich einen Fischereischein? Ruf mich an: 0171 2345678",
        "candidates": [{"faq_id": "sperrmuell", "title": "Sperrmüll", "score": 0.71}],
        "transcript": [{"role": "citizen", "text": "Meine Mail ist max@example.org"},
                       {"role": "bot", "text": "Darf ich weiterleiten?"}],
        "consent": True,
        "email": "max@example.org",
    }
    data.update(overrides)
    return data
