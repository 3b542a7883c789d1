"""Load benchmark on the real deployment: citizens through nginx to one, then two app hosts (issue 15).

Builds the deployment of tests/deploy (:mod:`tests.helpers.deployment`: a data host with PostgreSQL and Redis, app
hosts each running ``auskunft serve actions|rasa|web``, nginx from ``deploy/nginx/auskunft.conf`` in front) in
network namespaces of its own (prefix ``akl-``, subnet 10.232.0.0/24), first with one app host, then with two.
On each it runs the same conversations through nginx: 50 and then 200 at once, 10 turns each, every one its own
sender sending its next message when the reply has arrived: German FAQ questions with follow-ups, and every
``--handoff-every``-th conversation asks for a person and confirms with the offered buttons (a ticket).
Reports msg/s, p50/p95/p99 latency and errors per phase, the ratio two hosts / one host, the load average of the
machine before and after each phase, and afterwards reads every conversation's events back from the tracker store
(PostgreSQL) and every ticket, and counts lost and duplicated ones (exit status 1 unless both are 0).
The citizens behave as the widget: a 503 with ``Retry-After`` (the web service's admission cap) is sent again after
that many seconds, twice at most, and counts as an error only then.

    sudo .venv/bin/python bench/deploy_load.py [--hosts 1 2] [--conversations 50 200] [--turns 10] \\
        [--chat-in-flight N] [--json bench/results/serving/deploy-load.json]

``--chat-in-flight 0`` switches the admission cap off: the comparison run for the overload figures.
``--pin-cores`` gives each app host a core of its own (host i on core i-1), so that the second host adds a core
rather than sharing the first one's: on a 2-core machine the data host, nginx and the client then compete with
the second host only, and the ratio two hosts / one host is a lower bound.

Needs root (namespaces), nginx, redis-server and PostgreSQL 15 (as tests/deploy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deploy_audit import audit, created, lost_or_duplicated  # noqa: E402
from bench.load import machine  # noqa: E402
from bench.load_client import Message, Turn, latency_summary, load_pools  # noqa: E402
from tests.helpers.deployment import Deployment, deploy, missing_tools  # noqa: E402
from tests.helpers.netns import Network  # noqa: E402

FOLLOW_UPS = ("Und was kostet das?", "Welche Unterlagen brauche ich dafür?", "Wie lange dauert das ungefähr?",
              "Kann ich das auch online erledigen?", "Muss ich dafür persönlich vorbeikommen?",
              "Wo finde ich das Formular?", "Danke, und was passiert danach?")
HANDOFF = ("Ich möchte bitte mit einem Menschen sprechen", "/affirm", "/skip_email")
"""A request for a person, then the buttons the bot offers (consent, no e-mail address): a ticket."""
BENCH_ENV = {  # every citizen comes from 127.0.0.1: no limit per address, the global ones stay on (as bench/load.py)
    "AUSKUNFT_LIMIT_CHAT_PER_ADDRESS": "0", "AUSKUNFT_LIMIT_HANDOFFS_PER_ADDRESS": "0", "PYTHONUNBUFFERED": "1"}


def script(faq: Sequence[Message], turns: int, rng: random.Random, handoff: bool) -> List[str]:
    """One citizen's messages: a question, a follow-up or two, the next question ...; a handoff at the end."""
    body = turns - len(HANDOFF) if handoff else turns
    texts: List[str] = []
    while len(texts) < body:
        texts.append(rng.choice(faq).text)
        texts += rng.sample(FOLLOW_UPS, rng.randint(1, 2))
    return texts[:body] + (list(HANDOFF) if handoff else [])


RESENDS = 2
"""As the widget: a 503 with ``Retry-After`` (the web service's admission cap: not forwarded) is sent again after
that many seconds, twice at most; the turn's latency counts from the first try."""


async def talk(client: httpx.AsyncClient, url: str, sender: str, texts: Sequence[str],
               turns: List[Turn], replies: List[List[Dict[str, Any]]], resent: List[int]) -> None:
    """One citizen as the widget: each message after the previous reply; ``turns``/``replies`` fill as it goes."""
    for text in texts:
        started = time.perf_counter()
        error: Optional[str] = None
        reply: List[Dict[str, Any]] = []
        for attempt in range(RESENDS + 1):
            error, reply, wait = await _send_once(client, url, sender, text)
            if wait is None or attempt == RESENDS:
                break
            resent.append(1)
            await asyncio.sleep(wait + random.random())
        turns.append(Turn(text, (time.perf_counter() - started) * 1000, error))
        replies.append(reply if error is None else [])


async def _send_once(client: httpx.AsyncClient, url: str, sender: str,
                     text: str) -> "tuple[Optional[str], List[Dict[str, Any]], Optional[float]]":
    """One POST: (error or None, the reply, seconds to wait before sending again where the answer was 503)."""
    try:
        response = await client.post(url, json={"sender": sender, "message": text, "lang": "de"},
                                     headers={"X-Auskunft-Conversation": sender})
    except httpx.TimeoutException:
        return "timeout", [], None
    except httpx.TransportError as err:
        return type(err).__name__, [], None
    if response.status_code != 200:
        retry_after = response.headers.get("Retry-After", "")
        wait = float(retry_after) if response.status_code == 503 and retry_after.isdigit() and \
            0 < int(retry_after) <= 30 else None
        return f"http_{response.status_code}", [], wait
    reply = response.json()
    return (None if isinstance(reply, list) and reply else "silent"), reply, None


async def phase(deployment: Deployment, conversations: int, turns: int, handoff_every: int, seed: int,
                timeout: float, sent: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """``conversations`` citizens at once through nginx; their turns and replies are added to ``sent``."""
    rng = random.Random(seed)
    faq = [m for m in load_pools(ROOT)["faq"] if m.lang == "de"]
    run = secrets.token_hex(3)
    talks = {f"dl-{run}-{conversations}-{i:04d}": script(faq, turns, rng, handoff_every > 0 and i % handoff_every
                                                         == handoff_every - 1) for i in range(conversations)}
    for sender in talks:
        sent[sender] = {"turns": [], "replies": [], "resent": [], "handoff": HANDOFF[0] in talks[sender]}
    limits = httpx.Limits(max_connections=conversations + 4, max_keepalive_connections=conversations + 4)
    load_before = os.getloadavg()
    done = asyncio.Event()

    async def progress() -> None:
        while not done.is_set():
            await asyncio.sleep(5)
            answered = sum(len(sent[s]["turns"]) for s in talks)
            print(f"  ... {answered}/{conversations * turns} messages, {time.perf_counter() - started:.0f} s",
                  flush=True)

    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        started = time.perf_counter()
        ticker = asyncio.create_task(progress())
        await asyncio.gather(*(talk(client, f"{deployment.url}/api/chat", s, texts, sent[s]["turns"],
                                    sent[s]["replies"], sent[s]["resent"]) for s, texts in talks.items()))
        wall = time.perf_counter() - started
        done.set()
        ticker.cancel()
    result = latency_summary([t for s in talks for t in sent[s]["turns"]], wall)
    errors: Dict[str, int] = {}
    for sender in talks:
        for turn in sent[sender]["turns"]:
            if turn.error:
                errors[turn.error] = errors.get(turn.error, 0) + 1
    return {"conversations": conversations, "turns": turns, **result, "errors_by_kind": errors,
            "answered_msg_per_s": (result["messages"] - result["errors"]) / wall,
            "resent_after_503": sum(len(sent[s]["resent"]) for s in talks),
            "handoffs_asked": sum(1 for s in talks if sent[s]["handoff"]),
            "handoffs_confirmed": sum(1 for s in talks if created(sent[s]["replies"])),
            "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg())}


async def on_hosts(deployment: Deployment, args: argparse.Namespace) -> Dict[str, Any]:
    """A warm-up conversation, then each ``--conversations`` phase; then the audit of everything sent."""
    sent: Dict[str, Dict[str, Any]] = {}
    out: Dict[str, Any] = {"startup_s": round(deployment.startup_seconds, 1), "phases": {}}
    await phase(deployment, 2, 3, 0, args.seed + 99, args.request_timeout, sent)  # each host's first requests
    for conversations in args.conversations:
        print(f"{len(deployment.apps)} app host(s): {conversations} conversations x {args.turns} turns", flush=True)
        result = await phase(deployment, conversations, args.turns, args.handoff_every, args.seed + conversations,
                             args.request_timeout, sent)
        out["phases"][str(conversations)] = result
        print(f"  {result['msg_per_s']:.1f} msg/s, p50 {result.get('p50_ms', 0):.0f} ms, p95 "
              f"{result.get('p95_ms', 0):.0f} ms, p99 {result.get('p99_ms', 0):.0f} ms, errors {result['errors']} "
              f"{result['errors_by_kind'] or ''}, resent after 503: {result['resent_after_503']}, "
              f"load {result['loadavg_before'][0]:.1f} -> "
              f"{result['loadavg_after'][0]:.1f}", flush=True)
    out["audit"] = audit(deployment, sent)
    a = out["audit"]
    a["nginx_logged"] = sum(1 for line in deployment.access_log() if " /api/chat " in line)  # really ours
    a["nginx_missing"] = max(0, sum(len(record["turns"]) for record in sent.values()) - a["nginx_logged"])
    print(f"  stored: {a['conversations']} conversations, user events sent {a['sent']} stored {a['stored']} lost "
          f"{a['lost']} (+{a['lost_after_error']} after an error) duplicated {a['duplicated']}; answers sent "
          f"{a['bot_sent']} stored {a['bot_stored']}; tickets expected {a['tickets_expected']} stored "
          f"{a['tickets_stored']} lost {a['tickets_lost']} duplicated {a['tickets_duplicated']}; in the "
          f"{a['clean_conversations']} conversations without a failed request: lost {a['clean_lost']} duplicated "
          f"{a['clean_duplicated']} reordered {a['clean_reordered']} unexpected {a['clean_unexpected']}", flush=True)
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2], choices=(1, 2))
    parser.add_argument("--conversations", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--handoff-every", type=int, default=25, help="every N-th conversation asks for a person")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds for everything, start-ups included")
    parser.add_argument("--base", type=Path, default=Path(os.environ.get("AUSKUNFT_BENCH_DEPLOY_TMP",
                                                                          "/tmp/auskunft-bench-deploy")))
    parser.add_argument("--prefix", default="akl-")
    parser.add_argument("--subnet", default="10.232.0")
    parser.add_argument("--port", type=int, default=18700, help="nginx on 127.0.0.1")
    parser.add_argument("--chat-in-flight", type=int, metavar="N", help="AUSKUNFT_CHAT_IN_FLIGHT of the web "
                        "services (0 = no admission cap: the comparison run); default: the service's own default")
    parser.add_argument("--pin-cores", action="store_true", help="pin app host i's processes to core i-1 (the "
                        "data host, nginx and this client float over all cores): each host gets a core of its own")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--report", type=Path, metavar="JSON",
                        help="print the table of an earlier run's results (with --json: rewrite them so)")
    args = parser.parse_args()
    if args.turns < len(HANDOFF) + 1:
        parser.error(f"--turns needs at least {len(HANDOFF) + 1} (a question and the handoff)")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the deployment is torn down all the same
    if args.report:  # the table again from a results file (derived figures recomputed), nothing started
        earlier = json.loads(args.report.read_text(encoding="utf-8"))
        report(earlier)
        if args.json:
            args.json.write_text(json.dumps(earlier, indent=2) + "\n")
        return 0
    reason = missing_tools()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    with socket.socket() as probe:  # another nginx there would answer the readiness check and take the load
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            print(f"error: 127.0.0.1:{args.port} is taken; pass another --port", file=sys.stderr)
            return 2
    deadline = time.monotonic() + args.time_limit
    out: Dict[str, Any] = {"machine": {**machine(), "loadavg_start": list(os.getloadavg())},
                           "params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                           "hosts": {}}
    env = dict(BENCH_ENV)
    if args.chat_in_flight is not None:
        env["AUSKUNFT_CHAT_IN_FLIGHT"] = str(args.chat_in_flight)
    try:
        for hosts in args.hosts:
            print(f"starting the deployment with {hosts} app host(s) in {args.base} ...", flush=True)
            with Network(args.prefix, args.subnet) as net, \
                    deploy(args.base, net, args.port, env, app_hosts=hosts) as deployment:
                if args.pin_cores:
                    out.setdefault("pinned", {})[str(hosts)] = pin_app_hosts(deployment)
                left = deadline - time.monotonic()
                out["hosts"][str(hosts)] = asyncio.run(asyncio.wait_for(on_hosts(deployment, args), left))
    except (asyncio.TimeoutError, AssertionError) as err:
        out["aborted"] = f"time limit of {args.time_limit:.0f} s reached" if isinstance(
            err, asyncio.TimeoutError) else str(err)[-2000:]
    out["machine"]["loadavg_end"] = list(os.getloadavg())
    report(out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    bad = sum(lost_or_duplicated(h["audit"]) for h in out["hosts"].values() if "audit" in h)
    return 1 if out.get("aborted") or bad else 0


def pin_app_hosts(deployment: Deployment) -> Dict[str, Any]:
    """Pin every thread of app host i's services (their process groups) to core ``i - 1``; returns what was pinned."""
    cores = sorted(os.sched_getaffinity(0))
    pinned: Dict[str, Any] = {}
    for index, app in enumerate(deployment.apps):
        core = cores[index % len(cores)]
        groups = {p.pid for name, p in deployment.processes.items() if name.startswith(f"{app.name}-")}
        threads = 0
        for pid in (int(d) for d in os.listdir("/proc") if d.isdigit()):
            try:
                if os.getpgid(pid) not in groups:
                    continue
                for tid in os.listdir(f"/proc/{pid}/task"):
                    os.sched_setaffinity(int(tid), {core})
                    threads += 1
            except (ProcessLookupError, FileNotFoundError, PermissionError):
                continue
        pinned[app.name] = {"core": core, "threads": threads}
    print(f"  pinned: {pinned}", flush=True)
    return pinned


def scaling(out: Dict[str, Any]) -> Dict[str, Dict[str, Optional[float]]]:
    """Two hosts / one host per phase, of all messages per second and of the answered ones (None: 0 answered)."""
    one, two = out["hosts"].get("1", {}).get("phases", {}), out["hosts"].get("2", {}).get("phases", {})
    ratios: Dict[str, Dict[str, Optional[float]]] = {}
    for n in (n for n in one if n in two):
        answered = [(r["messages"] - r["errors"]) / r["wall_s"] for r in (one[n], two[n])]
        ratios[n] = {"msg_per_s": two[n]["msg_per_s"] / one[n]["msg_per_s"],
                     "answered_msg_per_s": answered[1] / answered[0] if answered[0] else None}
    return ratios


def report(out: Dict[str, Any]) -> None:
    """The figures as a table on stdout (``scaling`` and ``answered_msg_per_s`` are derived here)."""
    for result in out["hosts"].values():
        for r in result["phases"].values():
            r["answered_msg_per_s"] = (r["messages"] - r["errors"]) / r["wall_s"]
    out["scaling"] = scaling(out)
    print(f"\n{'hosts':<6}{'conv':>6}{'msgs':>7}{'errors':>8}{'wall s':>8}{'msg/s':>8}{'answered/s':>11}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'load before/after':>19}")
    for hosts, result in out["hosts"].items():
        for conversations, r in result["phases"].items():
            print(f"{hosts:<6}{conversations:>6}{r['messages']:>7}{r['errors']:>8}{r['wall_s']:>8.1f}"
                  f"{r['msg_per_s']:>8.1f}{r['answered_msg_per_s']:>11.1f}"
                  + "".join(f"{r.get(k, 0):>8.0f}" for k in ("p50_ms", "p95_ms", "p99_ms"))
                  + f"{r['loadavg_before'][0]:>10.1f} / {r['loadavg_after'][0]:.1f}")
    for conversations, ratio in out["scaling"].items():
        answered = ratio["answered_msg_per_s"]
        print(f"scaling at {conversations} conversations: 2 hosts / 1 host = {ratio['msg_per_s']:.2f}x msg/s, "
              + (f"{answered:.2f}x answered msg/s" if answered is not None else "one host answered none"))
    for hosts, result in out["hosts"].items():
        a = result.get("audit")
        if a:
            print(f"{hosts} host(s): lost or duplicated {lost_or_duplicated(a)} (user events {a['stored']}/"
                  f"{a['sent']}, answers {a['bot_stored']}/{a['bot_sent']}, tickets {a['tickets_stored']}/"
                  f"{a['tickets_expected']})")
    if out.get("aborted"):
        print(f"ABORTED: {out['aborted']}")


if __name__ == "__main__":
    sys.exit(main())
