"""The parts of the load benchmark (``bench/load.py``): message mix, citizens' conversations, statistics,
the lost/duplicated-event check against Rasa's tracker, and the stack's processes and their memory.

Everything above "talking to the services" is pure and unit-tested (tests/unit/test_load_bench.py).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import httpx
import yaml

from bot.kb.loader import load_kb
from bot.privacy.redact import redact

CATEGORIES = ("faq", "smalltalk", "offtopic")
DEFAULT_MIX = (0.70, 0.15, 0.15)
SMALLTALK_INTENTS = ("greet", "thanks")
OFFTOPIC = (  # questions the kb cannot answer, and typing noise
    "Wie wird das Wetter morgen in Hamburg?", "Wer hat die Fußball-WM 2014 gewonnen?",
    "Kannst du mir ein Rezept für Apfelkuchen geben?", "Was kostet ein Flug nach Mallorca?",
    "Welcher Film läuft heute im Kino?", "Erzähl mir einen Witz", "Wie alt ist die Erde?",
    "What is the capital of Australia?", "Can you recommend a good restaurant?", "Wo kann ich Pizza bestellen?",
    "asdf qwer", "jjjjjj", "ölkjh zuiop", "???", "123 456 789", "<b>test</b>", "xyzzy plugh", "hmmmmm",
)


@dataclass(frozen=True)
class Message:
    """One message a citizen types: its text, the page language sent with it, its category."""

    text: str
    lang: str
    kind: str


@dataclass
class Turn:
    """One sent message and how it went: ``error`` is None for a 2xx reply with a JSON list."""

    text: str
    latency_ms: float
    error: Optional[str] = None


def load_pools(root: Path) -> Dict[str, List[Message]]:
    """The messages per category: the kb's own phrasings, greetings/thanks from data/nlu.yml, off-topic."""
    faq = [Message(text, entry.lang, "faq") for entry in load_kb(root / "kb").entries for text in entry.phrasings]
    nlu = yaml.safe_load((root / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    smalltalk = [Message(line[2:].strip(), "de", "smalltalk") for item in nlu
                 if item.get("intent") in SMALLTALK_INTENTS
                 for line in str(item["examples"]).splitlines() if line.startswith("- ")]
    offtopic = [Message(text, "de", "offtopic") for text in OFFTOPIC]
    if not faq or not smalltalk:
        raise ValueError(f"no FAQ phrasings in {root / 'kb'} or no greet/thanks examples in data/nlu.yml")
    return {"faq": faq, "smalltalk": smalltalk, "offtopic": offtopic}


def apportion(total: int, mix: Sequence[float]) -> List[int]:
    """Split ``total`` into whole counts in the proportions ``mix`` (largest remainder; they sum to total)."""
    weights = [w / sum(mix) * total for w in mix]
    counts = [int(w) for w in weights]
    for i in sorted(range(len(mix)), key=lambda i: counts[i] - weights[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def message_mix(pools: Dict[str, List[Message]], total: int, seed: int,
                mix: Sequence[float] = DEFAULT_MIX) -> List[Message]:
    """``total`` messages in the exact proportions ``mix`` of :data:`CATEGORIES`, shuffled; same seed, same list."""
    rng = random.Random(seed)
    kinds = [kind for kind, count in zip(CATEGORIES, apportion(total, mix), strict=True) for _ in range(count)]
    rng.shuffle(kinds)
    return [rng.choice(pools[kind]) for kind in kinds]


def long_conversation(pools: Dict[str, List[Message]], turns: int, seed: int, window: int = 20) -> List[Message]:
    """A ``turns``-long :func:`message_mix` whose last ``window`` messages repeat its first ``window``.

    The same messages at the start and at the end, so their latencies differ only by the conversation's length.
    """
    if turns < 2 * window:
        raise ValueError(f"a long conversation needs at least {2 * window} turns, got {turns}")
    messages = message_mix(pools, turns, seed)
    return messages[: turns - window] + messages[:window]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(turns: Sequence[Turn], wall_s: float) -> Dict[str, Any]:
    """Messages, errors, msg/s over ``wall_s`` and p50/p95/p99/max latency (ms) of the answered messages."""
    ok = [t.latency_ms for t in turns if t.error is None]
    result: Dict[str, Any] = {"messages": len(turns), "errors": len(turns) - len(ok), "wall_s": wall_s,
                              "msg_per_s": len(turns) / wall_s if wall_s > 0 else 0.0}
    if ok:
        result.update(p50_ms=percentile(ok, 50), p95_ms=percentile(ok, 95), p99_ms=percentile(ok, 99), max_ms=max(ok))
    return result


def check_events(sent: Sequence[Tuple[str, bool]], stored: Sequence[str]) -> Dict[str, int]:
    """Compare the messages sent in one conversation (text, answered) with the user events Rasa stored.

    Texts are compared after :func:`bot.privacy.redact.redact` on both sides, so a message stored redacted still
    matches. The two sequences are aligned (longest matching, in order): a sent message with no stored event is
    ``lost`` (``lost_after_error`` if its request failed: it may never have reached Rasa), a stored event with no
    sent message is ``reordered`` when its text is also among the lost ones, ``duplicated`` when it is a text that
    was sent, else ``unexpected``.
    """
    want = [redact(text) for text, _ in sent]
    have = [redact(text) for text in stored]
    counts = dict(sent=len(want), stored=len(have), matched=0, lost=0, lost_after_error=0, duplicated=0,
                  reordered=0, unexpected=0, redacted=sum(1 for text, _ in sent if redact(text) != text))
    missing: List[int] = []
    extra: List[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
        if op == "equal":
            counts["matched"] += i2 - i1
            continue
        missing += range(i1, i2)
        extra += have[j1:j2]
    for text in extra:
        paired = next((i for i in missing if want[i] == text), None)
        if paired is not None:  # stored, but not where it was sent
            missing.remove(paired)
            counts["reordered"] += 1
        elif text in want:
            counts["duplicated"] += 1
        else:
            counts["unexpected"] += 1
    for i in missing:
        counts["lost" if sent[i][1] else "lost_after_error"] += 1
    return counts


# --- talking to the services --------------------------------------------------------------------------------

async def send(client: httpx.AsyncClient, target: str, url: str, sender: str, message: Message) -> Turn:
    """Send one message as the widget (``target`` web) or a REST client (``rasa``) would, and time the reply."""
    if target == "web":
        body: Dict[str, object] = {"sender": sender, "message": message.text, "lang": message.lang}
        headers = {"X-Auskunft-Conversation": sender}
    else:
        body, headers = {"sender": sender, "message": message.text, "metadata": {"lang": message.lang}}, {}
    started = time.perf_counter()
    error: Optional[str] = None
    try:
        response = await client.post(url, json=body, headers=headers)
        if not 200 <= response.status_code < 300:
            error = f"http_{response.status_code}"
        elif not isinstance(response.json(), list):
            error = "not_a_list"
        elif not response.json():
            error = "silent"  # the bot answered nothing: a conversation that has gone dead
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.TransportError as err:
        error = type(err).__name__
    except ValueError:
        error = "not_json"
    return Turn(message.text, (time.perf_counter() - started) * 1000, error)


async def converse(client: httpx.AsyncClient, target: str, url: str, sender: str, messages: Sequence[Message],
                   turns: List[Turn]) -> None:
    """One citizen: each message only after the reply to the previous one; ``turns`` fills as they go."""
    for message in messages:
        turns.append(await send(client, target, url, sender, message))


class TrackerReader:
    """The user texts Rasa stored for a conversation, from its HTTP API or, when that is off, its SQLite store."""

    def __init__(self, client: httpx.AsyncClient, rasa_url: str, tracker_db: Optional[Path]) -> None:
        self.client, self.rasa_url, self.tracker_db = client, rasa_url.rstrip("/"), tracker_db
        self.source: Optional[str] = None

    async def user_texts(self, sender: str) -> List[str]:
        """The texts of the conversation's ``user`` events, oldest first (all sessions)."""
        if self.source in (None, "http"):
            try:
                response = await self.client.get(f"{self.rasa_url}/conversations/{sender}/tracker",
                                                 params={"include_events": "ALL"})
            except httpx.HTTPError as err:
                raise RuntimeError(f"could not read Rasa's tracker at {self.rasa_url}: {err}") from None
            if response.status_code == 200:
                self.source = "http"
                return [e.get("text") or "" for e in response.json().get("events", []) if e.get("event") == "user"]
            if self.source == "http" or self.tracker_db is None:
                raise RuntimeError(f"Rasa's tracker API answered {response.status_code} (the stack runs 'rasa run' "
                                   "without --enable-api); pass --tracker-db with the SQLite tracker store "
                                   "(AUSKUNFT_HOME/trackers.sqlite3)")
        self.source = f"sqlite:{self.tracker_db}"
        return await asyncio.to_thread(self._from_sqlite, sender)

    def _from_sqlite(self, sender: str) -> List[str]:
        with sqlite3.connect(f"file:{self.tracker_db}?mode=ro", uri=True, timeout=30) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                              (sender,)).fetchall()
        return [json.loads(data).get("text") or "" for (data,) in rows]


# --- the stack's processes ----------------------------------------------------------------------------------

ROLES = (("web", "bot.web.app:create_app"), ("actions", "rasa_sdk"), ("rasa", "bot.run.rasa_launcher"),
         ("kb-watch", "watch"))


def _cmdline(pid: int) -> List[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _role(cmdline: Sequence[str]) -> Optional[str]:
    return next((role for role, word in ROLES if word in cmdline), None)


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def stack_processes(ports: Sequence[int], supervisor: Optional[int] = None) -> Dict[str, int]:
    """Pids of the stack's web, rasa, actions and kb-watch processes.

    Without ``supervisor`` (the ``auskunft run`` process), it is the parent of the process whose command line
    has one of ``ports``; its children are named by their command lines.
    """
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    if supervisor is None:
        wanted = {str(port) for port in ports}
        own = [pid for pid in pids if _role(_cmdline(pid)) and wanted & set(_cmdline(pid))]
        if not own:
            return {}
        supervisor = _parent(own[0])
    found: Dict[str, int] = {}
    for pid in sorted(pids):
        role = _role(_cmdline(pid)) if _parent(pid) == supervisor else None
        if role:
            name, number = role, 2
            while name in found:  # several Rasa processes: rasa, rasa-2, ...
                name, number = f"{role}-{number}", number + 1
            found[name] = pid
    return found


def rss_mib(pid: int) -> Optional[float]:
    """Resident memory of a process in MiB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
