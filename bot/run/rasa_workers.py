"""Several Rasa processes side by side, each conversation always served by the same one.

Rasa 3.6 handles one message at a time per process (its NLU and policies run on the event
loop), so one process uses one core. ``auskunft run`` starts ``rasa_workers`` of them on
consecutive ports; the web service sends each conversation to the process its id hashes to.
Every message of a conversation therefore meets the same in-memory lock store, while the
trackers live in the shared SQL store (SQLite by default, PostgreSQL when scaled out).

With ``rasa_url`` the processes run elsewhere (``auskunft serve rasa`` on other hosts or in
containers, locks in Redis): the web service hashes over that list instead.
"""

from __future__ import annotations

import os
import zlib
from typing import List

from bot.config.settings import Settings


def worker_count(settings: Settings) -> int:
    """How many Rasa processes to run: ``rasa_workers``, or one per CPU core when it is 0."""
    return settings.rasa_workers or max(1, len(os.sched_getaffinity(0)))


def worker_ports(settings: Settings) -> List[int]:
    """The ports of the Rasa processes, from ``rasa_port`` up."""
    return [settings.rasa_port + i for i in range(worker_count(settings))]


def worker_for(conversation: str, workers: int) -> int:
    """The index of the process that serves ``conversation`` (stable across processes and restarts)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return zlib.crc32(conversation.encode("utf-8")) % workers


def rasa_urls(settings: Settings) -> List[str]:
    """Base URLs of all Rasa processes: ``rasa_url`` when set, else the local worker ports."""
    configured = [url.strip().rstrip("/") for url in settings.rasa_url.split(",") if url.strip()]
    return configured or [f"http://{settings.internal_host}:{port}" for port in worker_ports(settings)]


def rasa_urls_for(settings: Settings, conversation: str) -> List[str]:
    """The Rasa processes to try for ``conversation``: its own first, then the others in list order.

    Every web service with the same list sends a conversation to the same process; the next one
    is only for when that process refuses connections (down or restarting). Its trackers are in the
    shared store, so the conversation continues there.
    """
    urls = rasa_urls(settings)
    first = worker_for(conversation, len(urls))
    return urls[first:] + urls[:first]


def rasa_url_for(settings: Settings, conversation: str) -> str:
    """Base URL of the Rasa process that serves ``conversation``."""
    return rasa_urls_for(settings, conversation)[0]
