"""deploy/grafana/auskunft.json uses the metric names bot.metrics defines, and shows every one of them."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator, Set

from prometheus_client import REGISTRY

import bot.metrics  # noqa: F401 - defines the metrics
from bot.config.settings import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "auskunft.json"


def expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition") and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def defined() -> Dict[str, Set[str]]:
    """Each auskunft_ family -> the names its samples can have."""
    names: Dict[str, Set[str]] = {}
    for family in REGISTRY.collect():
        if family.name.startswith("auskunft_"):
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
            names[family.name] = {family.name + suffix for suffix in suffixes}
    return names


def test_the_dashboard_uses_only_defined_metrics_and_shows_each_one() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for text in expressions(dashboard) for name in re.findall(r"\bauskunft_[a-z_]+", text)}
    families = defined()
    known = set().union(*families.values())
    assert used and used <= known, used - known
    unshown = [family for family, samples in families.items() if not samples & used]
    assert unshown == []


def test_the_panels_fit_the_grid_and_ask_the_chosen_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]
    assert {var["name"] for var in dashboard["templating"]["list"]} == {"datasource", "job"}
