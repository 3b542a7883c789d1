"""A query vector handed from the web service to Rasa inside the message metadata, signed.

The web service embeds messages in batches (:mod:`bot.embedding.micro_batch`); Rasa then ranks
with the vector instead of embedding the text again. The vector travels with the fingerprint of
the model that made it and an HMAC over text, fingerprint and vector, keyed with the API token
both processes share. Rasa uses it only if the signature holds, the text is the one it received
and the model is the one its index needs; otherwise it embeds the text itself, as always.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from contextvars import ContextVar
from typing import Any, Dict, Optional, Tuple

import numpy as np

METADATA_KEY = "query_vector"
# Set by Rasa's REST channel for the message being handled: the vector is taken out of the metadata
# there, so that 2 KB of base64 per message are not stored in the tracker with the user's event.
INCOMING: "ContextVar[Optional[Dict[str, Any]]]" = ContextVar("incoming_query_vector", default=None)


def _signature(key: str, text: str, model: str, payload: str) -> str:
    message = "\0".join((text, model, payload)).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def seal(vector: np.ndarray, model: str, text: str, key: str) -> Dict[str, str]:
    """The metadata entry for ``vector`` (float32, little-endian, base64) made by ``model`` for ``text``."""
    payload = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return {"vector": payload, "model": model, "sig": _signature(key, text, model, payload)}


def unseal(sealed: Any, text: str, key: str, dim: Optional[int] = None) -> Optional[Tuple[np.ndarray, str]]:
    """The vector and its model fingerprint, or None when the entry is missing, malformed or not signed for ``text``."""
    if not isinstance(sealed, dict):
        return None
    payload, model, sig = sealed.get("vector"), sealed.get("model"), sealed.get("sig")
    if not (isinstance(payload, str) and isinstance(model, str) and isinstance(sig, str)):
        return None
    if not hmac.compare_digest(_signature(key, text, model, payload), sig):
        return None
    try:
        vector = np.frombuffer(base64.b64decode(payload, validate=True), dtype="<f4").astype(np.float32)
    except (ValueError, TypeError):
        return None
    if vector.size == 0 or (dim is not None and vector.size != dim) or not np.all(np.isfinite(vector)):
        return None
    return vector, model
