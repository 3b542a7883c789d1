"""SECURITY.md is one text in two places: GitHub's Security tab and the docs site (docs/security.md includes it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "SECURITY.md"
PAGE = ROOT / "docs" / "security.md"
DEFINITION = re.compile(r"^\[(?P<label>[^\]]+)\]:\s*(?P<target>\S+)\s*$", re.M)
USE = re.compile(r"\]\[(?P<label>[^\]]+)\]")


def _definitions(path: Path) -> Dict[str, str]:
    return {m["label"]: m["target"] for m in DEFINITION.finditer(path.read_text(encoding="utf-8"))}


def _section(text: str) -> str:
    start, end = "<!-- --8<-- [start:policy] -->", "<!-- --8<-- [end:policy] -->"
    assert start in text and end in text, "SECURITY.md lost the snippet markers that docs/security.md includes"
    return text[text.index(start):text.index(end)]


def test_every_link_resolves_on_github_and_on_the_docs_site() -> None:
    used = set(USE.findall(_section(POLICY.read_text(encoding="utf-8"))))
    on_github, in_docs = _definitions(POLICY), _definitions(PAGE)
    assert used and used == set(on_github) == set(in_docs), "define each [label] in SECURITY.md and docs/security.md"
    for base, targets in ((ROOT, on_github), (ROOT / "docs", in_docs)):
        for label, target in targets.items():
            path = base / target.split("#")[0]
            assert path.is_file(), f"[{label}]: {target} does not exist (from {base.relative_to(ROOT) or '.'})"
    assert '--8<-- "SECURITY.md:policy"' in PAGE.read_text(encoding="utf-8")


def test_the_agency_contact_fields_are_left_to_the_agency() -> None:
    text = POLICY.read_text(encoding="utf-8")
    table = text[text.index("| Field | To be filled in by the deploying agency |"):]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) >= 5
    assert all("(agency fills in" in row for row in rows), "no made-up contact data: each field says who fills it in"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "SECURITY.md holds no e-mail address"


def test_the_policy_names_the_private_route_and_the_accepted_advisories() -> None:
    text = POLICY.read_text(encoding="utf-8")
    assert "**Report a vulnerability**" in text and "Please do not open a public issue" in text
    exceptions = (ROOT / ".ci" / "audit-exceptions.toml").read_text(encoding="utf-8")
    for package in re.findall(r'^package = "([^"]+)"', exceptions, re.M):
        assert f"| {package} |" in text, f"{package} is accepted in .ci/audit-exceptions.toml but not in SECURITY.md"
