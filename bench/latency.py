"""Latency, start-up, memory and kb-edit-to-live time of the real services on this machine.

Starts ``auskunft run`` in a temporary home (the project's provisioned model is reused),
then measures, in this one process:

- a full FAQ turn over Rasa's REST webhook (one user, sequential), p50/p95, against the
  baseline of embedding the same question alone in this process (the unavoidable part);
- start-up: launch to "ready" of all services, and of the Rasa server alone;
- resident memory of the Rasa process;
- seconds from saving an edited kb file to the first answer that contains the new text.

    python bench/latency.py [--turns 200] [--json bench/results/latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import Settings  # noqa: E402
from bot.embedding.encoder import shared_encoder  # noqa: E402
from bot.evaluation.dataset import load_examples  # noqa: E402
from bot.run.services import child_env, services  # noqa: E402


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def rasa_pid(port: int) -> int:
    """The pid of the Rasa server listening on ``port`` (found through /proc)."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if any(b"rasa" in part for part in cmdline) and b"run" in cmdline and str(port).encode() in cmdline:
            return int(proc.name)
    raise RuntimeError("rasa process not found")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def rasa_startup_seconds(settings: Settings, env: Dict[str, str]) -> float:
    """Launch the Rasa server alone (same command as 'auskunft run') and time it until it answers."""
    command = services(settings, watch_kb=False)[2].command
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env={**env, **child_env(settings)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 300:
            try:
                if httpx.get(f"http://127.0.0.1:{settings.rasa_port}/", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError("rasa exited during start-up")
            time.sleep(0.1)
        raise RuntimeError("rasa did not start within 300 s")
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="auskunft-bench-"))
    shutil.copytree(ROOT / "kb", base / "kb")
    model = Settings().default_model_dir
    env = {**os.environ, "AUSKUNFT_HOME": str(base / "home"), "AUSKUNFT_KB_DIR": str(base / "kb"),
           "AUSKUNFT_EMBEDDING_MODEL": str(model), "AUSKUNFT_RASA_PORT": "5105", "AUSKUNFT_ACTION_PORT": "5155",
           "AUSKUNFT_WEB_PORT": "8100", "PYTHONUNBUFFERED": "1",
           "AUSKUNFT_RATE_LIMITS": "false"}  # one client address sends everything
    print("preparing a temporary deployment (train once, not timed) ...", flush=True)
    subprocess.run([sys.executable, "-m", "bot.cli", "model", "provision"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "bot.cli", "kb", "build"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "bot.cli", "train"], cwd=ROOT, env=env, check=True, capture_output=True)
    settings = Settings(home=base / "home", kb_dir=base / "kb", embedding_model=str(model), rasa_port=5105,
                        action_port=5155, web_port=8100)
    rasa_alone = [rasa_startup_seconds(settings, env) for _ in range(2)]

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--no-train"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results: Dict[str, float] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Auskunft is ready"):
                results["startup_all_services_s"] = time.perf_counter() - started
                results["startup_services_only_s"] = float(re.search(r"services up in ([\d.]+) s", line).group(1))
                break
        else:
            raise RuntimeError("services did not start")
        results["startup_rasa_s"] = min(rasa_alone)
        url = "http://127.0.0.1:5105/webhooks/rest/webhook"
        questions = [e.text for e in load_examples(ROOT / "tests/data/sample_kb_test.jsonl") if e.expected]
        client = httpx.Client(timeout=30)
        for i in range(10):  # warm-up
            client.post(url, json={"sender": f"warm{i}", "message": questions[i]})
        turns: List[float] = []
        for i in range(args.turns):
            question = questions[i % len(questions)]
            t0 = time.perf_counter()
            response = client.post(url, json={"sender": f"bench{i // 10}", "message": question})
            turns.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
        results["turn_p50_ms"] = statistics.median(turns)
        results["turn_p95_ms"] = percentile(turns, 95)
        results["rasa_rss_mb"] = rss_mb(rasa_pid(5105))

        encoder = shared_encoder(str(model), 1)
        encoder.encode_one("warm up")
        embed: List[float] = []
        for i in range(args.turns):
            t0 = time.perf_counter()
            encoder.encode_one(questions[i % len(questions)])
            embed.append((time.perf_counter() - t0) * 1000)
        results["baseline_embedding_p50_ms"] = statistics.median(embed)
        results["turn_over_embedding_ratio"] = results["turn_p50_ms"] / results["baseline_embedding_p50_ms"]

        path = base / "kb" / "abfall" / "sperrmuell-anmelden.md"
        head, sep, body = path.read_text(encoding="utf-8").partition("\n---\n")
        marker = "Bench-Hinweis 4711"
        path.write_text(f"{head}{sep}{marker}. {body}", encoding="utf-8")
        saved = time.perf_counter()
        while time.perf_counter() - saved < 60:
            reply = client.post(url, json={"sender": "edit", "message": "Wie melde ich Sperrmüll zur Abholung an?"})
            if marker in reply.text:
                break
            time.sleep(0.1)
        results["kb_edit_to_live_s"] = time.perf_counter() - saved
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        shutil.rmtree(base, ignore_errors=True)

    print(f"\nREST turn (one user, {args.turns} German questions, this machine: {os.cpu_count()} cores)")
    print(f"  p50 {results['turn_p50_ms']:.1f} ms   p95 {results['turn_p95_ms']:.1f} ms   "
          f"(target p50 <= 80, p95 <= 150)")
    print(f"  baseline, query embedding alone in this process: p50 {results['baseline_embedding_p50_ms']:.1f} ms "
          f"-> a turn costs {results['turn_over_embedding_ratio']:.1f}x the embedding")
    print(f"start-up: Rasa server alone {results['startup_rasa_s']:.1f} s (best of 2; target <= 20), all services "
          f"{results['startup_services_only_s']:.1f} s, incl. checks {results['startup_all_services_s']:.1f} s")
    print(f"memory: Rasa process RSS {results['rasa_rss_mb']:.0f} MB (target <= 1536)")
    print(f"kb edit -> answered by the running bot: {results['kb_edit_to_live_s']:.1f} s (target <= 10)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
