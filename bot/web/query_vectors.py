"""The web service embeds citizens' messages in micro-batches and hands Rasa the signed vectors.

Rasa handles one message at a time per process; embedding is the largest part of its turn. Done
here instead, concurrent messages share one forward pass (:mod:`bot.embedding.micro_batch`), the
Rasa processes need not hold the model, and Rasa still checks every vector
(:mod:`bot.embedding.sealed_vector`) and embeds the text itself when a vector is missing or unusable.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from bot.config.settings import Settings
from bot.embedding.encoder import QueryEncoder
from bot.embedding.micro_batch import MicroBatcher
from bot.embedding.sealed_vector import METADATA_KEY, seal
from bot.retrieval.assembly import query_encoder

logger = logging.getLogger(__name__)


class QueryVectors:
    """Signed query vectors for Rasa's message metadata.

    Args:
        settings: ``embed_in_web``, ``batch_window_ms``, ``max_message_chars`` and the encoder settings.
        key: the API token the web service and Rasa share.
    """

    def __init__(self, settings: Settings, key: str) -> None:
        self.enabled = (settings.embed_in_web and settings.finetune_epochs == 0
                        and settings.encoder != "sentence-transformers")
        self._key = key
        self._settings = settings
        self._max_chars = settings.max_message_chars
        self._encoder: Optional[QueryEncoder] = None
        self._batcher: Optional[MicroBatcher] = None

    def _start(self) -> bool:
        """Set up the encoder (its weights load on the first batch); off for good if there is no model."""
        if self._batcher is None and self.enabled:
            try:
                self._encoder = query_encoder(self._settings)
            except (FileNotFoundError, ValueError) as error:
                logger.warning("the web service does not embed messages (%s); each Rasa process embeds its own", error)
                self.enabled = False
                return False
            self._batcher = MicroBatcher(self._encoder, window_ms=self._settings.batch_window_ms)
        return self._batcher is not None

    async def metadata_for(self, text: str) -> Dict[str, Any]:
        """``{"query_vector": ...}`` for ``text``, or nothing when off or embedding failed (Rasa then embeds)."""
        if not self._start():
            return {}
        assert self._batcher is not None and self._encoder is not None  # _start() set them up
        text = text[: self._max_chars]  # exactly what Rasa's component embeds
        try:
            vector = await self._batcher.embed(text)
        except Exception:  # Rasa embeds it itself: slower, never wrong
            logger.exception("embedding in the web service failed; Rasa embeds this message itself")
            return {}
        return {METADATA_KEY: seal(vector, self._encoder.fingerprint, text, self._key)}

    @property
    def batches(self) -> int:
        """Forward passes so far (for the figures: messages per pass = embedded / batches)."""
        return self._batcher.batches if self._batcher is not None else 0

    async def close(self) -> None:
        """Stop the batcher."""
        if self._batcher is not None:
            await self._batcher.close()
