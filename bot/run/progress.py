"""Plain progress lines for long work (index build, evaluation) on a terminal or in CI logs."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def progress_printer(label: str, stream: TextIO = sys.stderr, every: float = 0.5) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback that prints a bar at most every ``every`` seconds and at the end."""
    state = {"last": 0.0, "start": time.perf_counter()}
    interactive = stream.isatty()

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - state["last"] < every:
            return
        state["last"] = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"{label} [{bar}] {done}/{total} ({now - state['start']:.1f} s)"
        if interactive:
            stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            stream.write(line + "\n")
        stream.flush()

    return report
