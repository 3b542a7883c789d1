"""Cost of the limits per store: what each citizen message pays (with the default budgets: three keys and a note).

A single hit on distinct keys; a whole message (:meth:`CitizenLimits.chat`: conversation, address and global budget
plus the conversation's address note, one round trip), sequential and from several threads; memory, SQLite (a file,
WAL), PostgreSQL and Redis where they answer.

    python bench/limits.py [--hits 2000] [--threads 4] [--json bench/results/serving/limits.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db.engine import make_engine  # noqa: E402
from bot.limits.base import Limiter  # noqa: E402
from bot.limits.memory import MemoryLimiter  # noqa: E402
from bot.limits.policy import Budgets, CitizenLimits  # noqa: E402
from bot.limits.sql import SqlLimiter  # noqa: E402


def _timed(limiter: Limiter, keys: List[str], limit: int) -> List[float]:
    took = []
    for key in keys:
        start = time.perf_counter()
        limiter.hit(key, limit, 60)
        took.append((time.perf_counter() - start) * 1000)
    return took


def measure(limiter: Limiter, hits: int, threads: int) -> Dict[str, float]:
    """p50/p95 in ms of single hits and of whole messages, and messages per second from several threads."""
    single = _timed(limiter, [f"a:{n % 500}" for n in range(hits)], 60)
    limits = CitizenLimits(limiter, Budgets(chat_global=10 * hits), "bench")
    message = []
    for n in range(hits):
        start = time.perf_counter()
        limits.chat(f"address-{n % 200}", f"conversation-{n % 400}")
        message.append((time.perf_counter() - start) * 1000)

    def worker(offset: int) -> None:
        for n in range(hits // threads):
            limits.chat(f"address-t{offset}-{n % 200}", f"conversation-t{offset}-{n % 400}")

    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    q = statistics.quantiles
    return {"hit_p50_ms": round(statistics.median(single), 3), "hit_p95_ms": round(q(single, n=20)[18], 3),
            "message_p50_ms": round(statistics.median(message), 3), "message_p95_ms": round(q(message, n=20)[18], 3),
            "threads_messages_per_s": round((hits // threads) * threads / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hits", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: Dict[str, Dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores: Dict[str, Limiter] = {"memory": MemoryLimiter(),
                                      "sqlite": SqlLimiter(make_engine(f"sqlite:///{tmp}/limits.sqlite3"))}
        try:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.helpers.postgres import drop_postgres, postgres_url

            url = postgres_url()
            stores["postgresql"] = SqlLimiter(make_engine(url))
        except Exception as err:  # no server here
            print(f"postgresql skipped: {err}", file=sys.stderr)
            url = ""
        try:
            from bot.limits.redis_store import RedisLimiter

            redis_store = RedisLimiter(args.redis, prefix=f"auskunft-bench:{time.time_ns()}:")
            redis_store.redis.ping()
            stores["redis"] = redis_store
        except Exception as err:
            print(f"redis skipped: {err}", file=sys.stderr)
        for name, store in stores.items():
            results[name] = measure(store, args.hits, args.threads)
            print(name, results[name], flush=True)
            if isinstance(store, SqlLimiter):
                store.engine.dispose()
        if url:
            drop_postgres(url)
        if "redis" in stores:
            client = stores["redis"].redis  # type: ignore[attr-defined]
            for key in client.scan_iter(stores["redis"].prefix + "*"):  # type: ignore[attr-defined]
                client.delete(key)
    if args.json:
        report = {"hits": args.hits, "threads": args.threads, "stores": results}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
