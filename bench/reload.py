"""Seconds from saving a kb file to the first answer from the new text, on the running services.

Generates a kb of ``--entries`` entries (the sample kb plus numbered synthetic entries),
starts ``auskunft run`` on it in a temporary home, and measures over HTTP:

- one file edited (the watcher rebuilds; unchanged entries come from the embedding cache);
- the same after deleting the embedding cache: every entry is embedded again (a rebuild
  from scratch, as after a model change).

    python bench/reload.py [--entries 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

import httpx

from bot.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC = """---
id: sondergenehmigung-{n}
title: Wie beantrage ich die Sondergenehmigung Nummer {n} für {topic}?
questions:
  - Sondergenehmigung {n} {topic} beantragen
  - Wo bekomme ich Genehmigung {n}?
lang: de
tags: [genehmigung]
source: https://musterstadt.example/genehmigungen/{n}
owner: Ordnungsamt
updated: 2026-11-23
---
Die Sondergenehmigung Nummer {n} für {topic} beantragen Sie beim **Ordnungsamt**. Legen Sie den Antrag,
einen Ausweis und die Unterlagen zu {topic} vor. Die Bearbeitung dauert etwa {days} Werktage.
"""
TOPICS = ["Veranstaltungen", "Baustellen", "Straßenfeste", "Märkte", "Filmaufnahmen", "Umzüge", "Container",
          "Gerüste", "Infostände", "Musik im Freien"]


def make_kb(target: Path, entries: int) -> int:
    """The sample kb plus synthetic entries up to ``entries``; returns the count."""
    shutil.copytree(ROOT / "kb", target)
    sample = sum(1 for p in target.rglob("*.md") if not p.name.startswith("_"))
    extra = target / "genehmigungen"
    extra.mkdir()
    for n in range(max(0, entries - sample)):
        (extra / f"sondergenehmigung-{n}.md").write_text(
            SYNTHETIC.format(n=n, topic=TOPICS[n % len(TOPICS)], days=3 + n % 9), encoding="utf-8")
    return max(entries, sample)


def edit_to_answer(client: httpx.Client, url: str, path: Path, question: str, marker: str) -> float:
    """Save ``marker`` into the answer of ``path``; seconds until the bot answers ``question`` with it."""
    head, sep, body = path.read_text(encoding="utf-8").partition("\n---\n")
    path.write_text(f"{head}{sep}{marker}. {body}", encoding="utf-8")
    saved = time.perf_counter()
    while time.perf_counter() - saved < 1800:
        reply = client.post(url, json={"sender": "reload-bench", "message": question})
        answers = " ".join(m.get("text", "") for m in reply.json())
        if marker in answers:  # in the bot's answer text (not anywhere in the JSON)
            return time.perf_counter() - saved
        time.sleep(0.1)
    raise RuntimeError(f"the new text was not answered within 30 minutes ({marker})")


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="auskunft-reload-"))
    count = make_kb(base / "kb", args.entries)
    model = Settings().default_model_dir
    env = {**os.environ, "AUSKUNFT_HOME": str(base / "home"), "AUSKUNFT_KB_DIR": str(base / "kb"),
           "AUSKUNFT_EMBEDDING_MODEL": str(model), "AUSKUNFT_RASA_PORT": "5205", "AUSKUNFT_ACTION_PORT": "5255",
           "AUSKUNFT_WEB_PORT": "8200", "PYTHONUNBUFFERED": "1",
           "AUSKUNFT_RATE_LIMITS": "false"}  # one client address sends everything
    print(f"kb of {count} entries; first build and training (not timed) ...", flush=True)
    subprocess.run([sys.executable, "-m", "bot.cli", "model", "provision"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot.cli", "kb", "build"], cwd=ROOT, env=env, check=True)
    first_build = time.perf_counter() - started
    subprocess.run([sys.executable, "-m", "bot.cli", "train"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--no-train"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results: Dict[str, float] = {"first_build_s": first_build}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Auskunft is ready"):
                break
        else:
            raise RuntimeError("services did not start")
        url = "http://127.0.0.1:5205/webhooks/rest/webhook"
        client = httpx.Client(timeout=60)
        path = base / "kb" / "abfall" / "sperrmuell-anmelden.md"
        question = "Wie melde ich Sperrmüll zur Abholung an?"
        client.post(url, json={"sender": "warm", "message": question})
        results["one_file_s"] = edit_to_answer(client, url, path, question, "Neu-Hinweis 1")
        shutil.rmtree(base / "home" / "embedding-cache", ignore_errors=True)
        results["from_scratch_s"] = edit_to_answer(client, url, path, question, "Neu-Hinweis 2")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        shutil.rmtree(base, ignore_errors=True)
    print(f"\nkb of {count} entries, {os.cpu_count()} cores; file saved -> first answer with the new text:")
    print(f"  one file changed:          {results['one_file_s']:.1f} s (target <= 5 on the sample kb)")
    print(f"  rebuild from scratch:      {results['from_scratch_s']:.1f} s (embedding cache deleted)")
    print(f"  (first build by 'auskunft kb build', for comparison: {results['first_build_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
