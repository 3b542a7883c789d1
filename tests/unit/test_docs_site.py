"""The documentation site builds with ``mkdocs build --strict`` and makes no third-party requests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# What a browser fetches by itself: scripts, styles, images, fonts, frames (links a reader clicks do not count).
FETCHED = re.compile(r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["'](?P<a>[^"']+)|"""
                     r"""<link\b[^>]*\bhref=["'](?P<b>[^"']+)|url\(["']?(?P<c>[^)"']+)""", re.I)


def test_site_builds_strictly_and_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                           timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    pages = sorted(site.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "widget.html", "kb-format.html", "editors.html", "agents.html",
                                       "privacy.html", "configuration.html", "deployment.html", "benchmarks.html",
                                       "benchmarks-figures.html", "architecture.html"}
    remote = []
    for path in [*pages, *site.rglob("*.css")]:
        for match in FETCHED.finditer(path.read_text(encoding="utf-8")):
            url = next(g for g in match.groups() if g)
            if re.match(r"^(https?:)?//", url):
                remote.append(f"{path.relative_to(site)}: {url}")
    assert not remote, "the docs site would load from other origins:\n" + "\n".join(remote)
    assert (site / "bench-results" / "clinc10" / "reliability.png").is_file()  # the plots travel with the site
    assert (site / "screenshots" / "widget-answer.png").is_file()
