"""Embed concurrent queries together: requests arriving within a few milliseconds share one forward pass.

One query alone takes ~7 ms in ONNX Runtime on one thread; 32 queries in one batch take ~3.4 ms
each (``bench/encoder.py``). Under load, messages of many conversations arrive at once, so the
web service collects them for at most ``window_ms`` (or until ``max_batch`` are waiting) and
embeds them in one call on a worker thread (ONNX Runtime releases the GIL), while the event loop
keeps serving. A lone message waits at most ``window_ms``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Protocol, Sequence, Tuple

import numpy as np


class BatchEncoder(Protocol):
    """Anything that embeds a list of texts into rows."""

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               passage: bool = False) -> np.ndarray:
        """L2-normalised float32 rows."""


class MicroBatcher:
    """Collects concurrent ``embed`` calls into batches.

    Args:
        encoder: the encoder (called on one worker thread, one batch at a time).
        window_ms: how long the first message of a batch waits for others.
        max_batch: a batch is embedded as soon as this many are waiting.

    Raises:
        ValueError: ``window_ms`` is negative or ``max_batch`` < 1.
    """

    def __init__(self, encoder: BatchEncoder, window_ms: float = 3.0, max_batch: int = 32) -> None:
        if window_ms < 0:
            raise ValueError(f"window_ms must not be negative, got {window_ms}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.encoder = encoder
        self.window = window_ms / 1000.0
        self.max_batch = max_batch
        self._queue: Optional[asyncio.Queue[Tuple[str, asyncio.Future[np.ndarray]]]] = None
        self._task: Optional[asyncio.Task[None]] = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.batches = 0
        self.embedded = 0

    async def embed(self, text: str) -> np.ndarray:
        """The vector of ``text``, computed in a batch with whatever else arrives meanwhile."""
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._serve(self._queue))
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        await self._queue.put((text, future))
        return await future

    async def _serve(self, queue: "asyncio.Queue[Tuple[str, asyncio.Future[np.ndarray]]]") -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.window
            while len(batch) < self.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            waiting = [(text, future) for text, future in batch if not future.cancelled()]
            if not waiting:
                continue
            texts: List[str] = [text for text, _ in waiting]
            try:
                vectors = await loop.run_in_executor(self._thread, self.encoder.encode, texts)
            except Exception as error:  # every caller hears of it; the batcher keeps serving
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            self.embedded += len(waiting)
            for (_, future), vector in zip(waiting, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)

    async def close(self) -> None:
        """Stop the collecting task and the worker thread."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._thread.shutdown(wait=False)
