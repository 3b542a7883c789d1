"""Load benchmark: many citizens at once against the running services, with a one-citizen baseline.

Each conversation has its own sender id and sends its turns one after another (the next only after the reply),
as the widget does, to the web service's ``POST /api/chat`` (or with ``--target rasa`` to Rasa's REST webhook).
Messages are a fixed, seeded mix: the kb's own phrasings, greetings/thanks (data/nlu.yml), off-topic and typing
noise (70/15/15). Reports msg/s, p50/p95/p99 latency and errors by kind, a sequential single-conversation baseline
run first and the speed-up against it, resident memory per process before/after the load, with ``--long N`` one
N-turn conversation (first 20 turns vs the last 20), and whether Rasa's tracker holds every message exactly once,
in order. Runs against ``--url`` or, with ``--start``, its own ``auskunft run`` in a temporary home.

    python bench/load.py --start --conversations 50 --turns 10 --long 200 [--json bench/results/load.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_client import (  # noqa: E402
    TrackerReader,
    Turn,
    check_events,
    converse,
    latency_summary,
    load_pools,
    long_conversation,
    message_mix,
    rss_mib,
    stack_processes,
)
from bot.config.settings import get_settings  # noqa: E402


def free_ports(count: int) -> List[int]:
    """``count`` distinct loopback ports that are free right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def started_stack(deadline: float) -> Iterator[Dict[str, Any]]:
    """``auskunft run`` in a temporary home (provisioned model reused, Rasa trained once), stopped afterwards."""
    base = Path(tempfile.mkdtemp(prefix="auskunft-load-"))
    web, rasa, action = free_ports(3)
    env = {**os.environ, "AUSKUNFT_HOME": str(base / "home"), "AUSKUNFT_EMBEDDING_MODEL": str(
        get_settings().default_model_dir), "AUSKUNFT_WEB_PORT": str(web), "AUSKUNFT_RASA_PORT": str(rasa),
        "AUSKUNFT_ACTION_PORT": str(action), "PYTHONUNBUFFERED": "1",
        # one client address sends everything: no limit per address or conversation, but the limits stay on
        # (the global budget is counted in the ticket database as in a deployment), so their cost is measured
        "AUSKUNFT_LIMIT_CHAT_PER_ADDRESS": "0", "AUSKUNFT_LIMIT_CHAT_PER_CONVERSATION": "0",
        "AUSKUNFT_LIMIT_HANDOFFS_PER_ADDRESS": "0"}
    log = base / "run.log"
    print(f"starting 'auskunft run' in {base} (web :{web}, rasa :{rasa}; trains Rasa once) ...", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while "Auskunft is ready" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                raise RuntimeError(f"'auskunft run' did not get ready (exit {process.poll()}); last lines:\n{tail}")
            time.sleep(0.5)
        yield {"url": f"http://127.0.0.1:{web}", "rasa_url": f"http://127.0.0.1:{rasa}", "supervisor": process.pid,
               "tracker_db": base / "home" / "trackers.sqlite3", "ports": [web, rasa]}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        try:  # anything the supervisor left (e.g. a 'kb build' it was running when stopped during start-up)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(base, ignore_errors=True)


def memory(stack: Dict[str, Any]) -> Dict[str, Optional[float]]:
    """RSS (MiB) of each of the stack's processes."""
    pids = stack_processes(stack["ports"], stack.get("supervisor"))
    return {role: rss_mib(pid) for role, pid in sorted(pids.items())}


async def phases(args: argparse.Namespace, stack: Dict[str, Any], out: Dict[str, Any]) -> None:
    """Warm-up, baseline, load, long conversation and the tracker check; ``out`` fills as they finish."""
    pools = load_pools(ROOT)
    url = f"{stack['url']}/api/chat" if args.target == "web" else f"{stack['rasa_url']}/webhooks/rest/webhook"
    run_id = secrets.token_hex(4)
    sent: Dict[str, List[Turn]] = {}
    limits = httpx.Limits(max_connections=args.conversations + 4, max_keepalive_connections=args.conversations + 4)
    async with httpx.AsyncClient(timeout=args.request_timeout, limits=limits) as client:
        for name, ready in (("web service", f"{stack['url']}/healthz"), ("Rasa server", f"{stack['rasa_url']}/")):
            try:
                (await client.get(ready)).raise_for_status()
            except httpx.HTTPError as err:
                raise RuntimeError(f"no {name} at {ready} ({err}); start 'auskunft run' or pass --start") from None
        await converse(client, args.target, url, f"load-{run_id}-warm", message_mix(pools, 5, args.seed + 3), [])
        out["rss_mib_before"] = memory(stack)

        base_turns = sent[f"load-{run_id}-base"] = []
        started = time.perf_counter()
        await converse(client, args.target, url, f"load-{run_id}-base",
                       message_mix(pools, args.baseline_turns, args.seed + 1), base_turns)
        out["baseline"] = latency_summary(base_turns, time.perf_counter() - started)

        if args.conversations > 0:
            mix = message_mix(pools, args.conversations * args.turns, args.seed)
            talks = [(f"load-{run_id}-c{i:04d}", mix[i * args.turns:(i + 1) * args.turns])
                     for i in range(args.conversations)]
            for sender, _ in talks:
                sent[sender] = []
            started = time.perf_counter()
            try:
                await asyncio.gather(*(converse(client, args.target, url, s, m, sent[s]) for s, m in talks))
            finally:
                out["load"] = latency_summary([t for s, _ in talks for t in sent[s]], time.perf_counter() - started)
            out["rss_mib_after"] = memory(stack)

        if args.long > 0:
            long_turns = sent[f"load-{run_id}-long"] = []
            started = time.perf_counter()
            await converse(client, args.target, url, f"load-{run_id}-long",
                           long_conversation(pools, args.long, args.seed + 2), long_turns)
            first, last = [t.latency_ms for t in long_turns[:20]], [t.latency_ms for t in long_turns[-20:]]
            out["long"] = {**latency_summary(long_turns, time.perf_counter() - started),
                           "first20_p50_ms": statistics.median(first), "last20_p50_ms": statistics.median(last),
                           "last_over_first": statistics.median(last) / statistics.median(first),
                           "per_turn_ms": [round(t.latency_ms, 1) for t in long_turns]}

        errors: Dict[str, int] = {}
        for turns in sent.values():
            for turn in turns:
                if turn.error:
                    errors[turn.error] = errors.get(turn.error, 0) + 1
        out["errors_by_kind"] = errors
        reader = TrackerReader(client, stack["rasa_url"], stack.get("tracker_db"))
        totals: Dict[str, int] = {}
        for sender, turns in sent.items():
            found = check_events([(t.text, t.error is None) for t in turns], await reader.user_texts(sender))
            for key, value in found.items():
                totals[key] = totals.get(key, 0) + value
        out["events"] = {"conversations": len(sent), "source": reader.source, **totals}
        for sender in [] if args.keep else [f"load-{run_id}-warm", *sent]:  # as a citizen deletes it
            try:
                await client.delete(f"{stack['url']}/api/chat/conversation",
                                    headers={"X-Auskunft-Conversation": sender})
            except httpx.HTTPError:
                out["not_deleted"] = out.get("not_deleted", 0) + 1


def machine() -> Dict[str, Any]:
    """Cores, CPU, date and git commit of this run."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def report(out: Dict[str, Any]) -> None:
    """The figures as a table on stdout."""
    print()
    if "baseline" in out:
        print(f"{'phase':<10}{'conv':>6}{'msgs':>7}{'errors':>8}{'wall s':>9}{'msg/s':>8}{'p50 ms':>9}"
              f"{'p95 ms':>9}{'p99 ms':>9}")
    for phase, conversations in (("baseline", 1), ("load", out["params"]["conversations"]), ("long", 1)):
        if phase in out:
            r = out[phase]
            print(f"{phase:<10}{conversations:>6}{r['messages']:>7}{r['errors']:>8}{r['wall_s']:>9.1f}"
                  + f"{r['msg_per_s']:>8.2f}" + "".join(f"{r.get(k, 0):>9.0f}" for k in ("p50_ms", "p95_ms", "p99_ms")))
    if "speedup_msg_per_s" in out:
        print(f"concurrency speed-up: {out['speedup_msg_per_s']:.2f}x msg/s of one citizen alone; "
              f"p50 latency {out['p50_load_over_baseline']:.1f}x the baseline's")
    if "long" in out:
        r = out["long"]
        print(f"long conversation: p50 turns 1-20 {r['first20_p50_ms']:.0f} ms, last 20 {r['last20_p50_ms']:.0f} ms "
              f"-> ratio {r['last_over_first']:.2f}")
    if "errors_by_kind" in out:
        print("errors by kind:", ", ".join(f"{k} {v}" for k, v in out["errors_by_kind"].items()) or "none")
    for role in sorted(set(out.get("rss_mib_before", {})) | set(out.get("rss_mib_after", {}))):
        before, after = out.get("rss_mib_before", {}).get(role), out.get("rss_mib_after", {}).get(role)
        print(f"RSS {role:<9} before {before or 0:>7.0f} MiB   after {after or 0:>7.0f} MiB")
    if out.get("rss_mib_after"):
        total = sum(value or 0 for value in out["rss_mib_after"].values())
        print(f"RSS all       after  {total:>7.0f} MiB")
    if "events" in out:
        e = out["events"]
        print(f"tracker check ({e['conversations']} conversations, {e['source']}): sent {e['sent']}, stored "
              f"{e['stored']}, lost {e['lost']} (+{e['lost_after_error']} after an error), duplicated "
              f"{e['duplicated']}, reordered {e['reordered']}, unexpected {e['unexpected']}")
    if out.get("aborted"):
        print(f"ABORTED: {out['aborted']}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running web service")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005", help="the running Rasa server")
    parser.add_argument("--tracker-db", type=Path, default=Path(os.environ.get(
        "AUSKUNFT_TRACKER_DB", get_settings().home / "trackers.sqlite3")),
        help="SQLite tracker store, read when Rasa's HTTP API is off (default: the project home's)")
    parser.add_argument("--start", action="store_true", help="start an own 'auskunft run' in a temporary home")
    parser.add_argument("--target", choices=("web", "rasa"), default="web")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--baseline-turns", type=int, default=20)
    parser.add_argument("--long", type=int, default=0, metavar="N",
                        help="also one conversation of N turns, its last 20 messages those of its first 20")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds for everything, start-up included")
    parser.add_argument("--keep", action="store_true",
                        help="keep the conversations (default: deleted through the web service after the check)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.long and args.long < 40:
        parser.error("--long needs at least 40 turns (first 20 vs last 20)")
    return args


def main() -> int:
    args = parse_args()
    deadline = time.monotonic() + args.time_limit
    out: Dict[str, Any] = {"machine": machine(), "params": {k: str(v) if isinstance(v, Path) else v
                                                            for k, v in vars(args).items()}}
    try:
        with (started_stack(deadline) if args.start else nullstack(args)) as stack:
            try:
                asyncio.run(asyncio.wait_for(phases(args, stack, out), deadline - time.monotonic()))
            except asyncio.TimeoutError:
                out["aborted"] = f"time limit of {args.time_limit:.0f} s reached"
    except RuntimeError as err:
        out["aborted"] = str(err)
    if "baseline" in out and "load" in out and out["baseline"]["msg_per_s"] and "p50_ms" in out["load"]:
        out["speedup_msg_per_s"] = out["load"]["msg_per_s"] / out["baseline"]["msg_per_s"]
        out["p50_load_over_baseline"] = out["load"]["p50_ms"] / out["baseline"]["p50_ms"]
    report(out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    bad = out.get("events", {})
    return 1 if out.get("aborted") or bad.get("lost") or bad.get("duplicated") or bad.get("reordered") else 0


@contextmanager
def nullstack(args: argparse.Namespace) -> Iterator[Dict[str, Any]]:
    """The services already running at ``--url`` / ``--rasa-url``."""
    ports: List[int] = [p for p in (httpx.URL(args.url).port, httpx.URL(args.rasa_url).port) if p]
    yield {"url": args.url.rstrip("/"), "rasa_url": args.rasa_url.rstrip("/"), "ports": ports,
           "tracker_db": args.tracker_db if args.tracker_db.is_file() else None}


if __name__ == "__main__":
    sys.exit(main())
