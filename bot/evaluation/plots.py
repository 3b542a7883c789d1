"""Plots people would rather see than read: score distributions, outcomes vs threshold, calibration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Dict, List

import numpy as np

from bot.decision import ANSWER, DecisionConfig, confidence_of
from bot.evaluation.runner import Ranked, decide_all


def write_plots(ranked: Ranked, config: DecisionConfig, out_dir: Path, title: str) -> List[Path]:
    """Write three PNGs and return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    scores = np.array([confidence_of(c) for _, c in ranked])
    inscope = np.array([bool(e.expected) for e, _ in ranked])
    correct = np.array([bool(c) and c[0].faq_id in e.expected for e, c in ranked])
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(scores.min(), scores.max(), 40) if len(scores) else 10
    ax.hist(scores[inscope], bins=bins, alpha=0.6, label="in scope", color="#1f77b4")
    ax.hist(scores[~inscope], bins=bins, alpha=0.6, label="out of scope", color="#d62728")
    ax.axvline(config.answer_threshold, color="black", linestyle="--", label="answer threshold")
    ax.set(xlabel="confidence (best candidate's score)", ylabel="messages", title=f"{title}: score distributions")
    ax.legend()
    paths.append(_save(fig, out_dir / "score_distributions.png"))

    grid = np.linspace(np.percentile(scores, 1), np.percentile(scores, 99), 60)
    rates: Dict[str, List[float]] = {"answered correctly": [], "wrong answer": [], "escalated (clarify/handoff)": []}
    for threshold in grid:
        outs = decide_all(ranked, replace(config, answer_threshold=float(threshold),
                                          clarify_threshold=min(config.clarify_threshold, float(threshold))))
        n = len(outs)
        rates["answered correctly"].append(sum(o.decision.action == ANSWER and o.decision.faq_id in o.expected
                                               for o in outs) / n)
        rates["wrong answer"].append(sum(o.decision.action == ANSWER and o.decision.faq_id not in o.expected
                                         for o in outs) / n)
        rates["escalated (clarify/handoff)"].append(sum(o.decision.action != ANSWER for o in outs) / n)
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in rates.items():
        ax.plot(grid, values, label=label)
    ax.axvline(config.answer_threshold, color="black", linestyle="--", label="chosen threshold")
    ax.set(xlabel="answer threshold", ylabel="fraction of all messages", title=f"{title}: outcomes vs threshold")
    ax.legend()
    paths.append(_save(fig, out_dir / "outcomes_vs_threshold.png"))

    edges = np.quantile(scores, np.linspace(0, 1, 11))
    centres, accuracy = [], []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        mask = (scores >= low) & (scores <= high)
        if mask.any():
            centres.append(float(scores[mask].mean()))
            accuracy.append(float(correct[mask].mean()))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(centres, accuracy, marker="o", label="fraction whose top candidate is correct")
    ax.set(xlabel="confidence (decile mean)", ylabel="top-1 correct", ylim=(0, 1),
           title=f"{title}: reliability")
    ax.legend(loc="upper left")
    paths.append(_save(fig, out_dir / "reliability.png"))
    return paths


def _save(fig: object, path: Path) -> Path:
    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(path, dpi=110)  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return path
