"""The committed CycloneDX SBOMs list exactly the packages of the lock files (``make sbom`` rewrites them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Set, Tuple

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SBOMS = {"requirements.lock": ROOT / "sbom" / "auskunft-serving.cdx.json",
         "requirements-dev.lock": ROOT / "sbom" / "auskunft-dev.cdx.json"}
STALE = "{sbom} does not match {lock}: run 'make sbom' and commit the result"


def _lock_pins(lock: Path) -> Set[Tuple[str, str]]:
    pins: Set[Tuple[str, str]] = set()
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "--hash")):
            name, version = line.split()[0].split("==")
            pins.add((canonicalize_name(name), version))
    return pins


def _sbom_pins(sbom: Dict[str, Any]) -> Set[Tuple[str, str]]:
    pins: Set[Tuple[str, str]] = set()
    for component in sbom["components"]:
        name, _, version = component["purl"].removeprefix("pkg:pypi/").partition("@")
        assert (canonicalize_name(name), version) == (canonicalize_name(component["name"]), component["version"])
        pins.add((canonicalize_name(component["name"]), component["version"]))
    return pins


def _pyproject_version() -> str:
    try:
        import tomli as toml
    except ModuleNotFoundError:
        from pip._vendor import tomli as toml  # type: ignore[no-redef]
    return str(toml.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


@pytest.mark.parametrize("lock", sorted(SBOMS))
def test_the_sbom_lists_exactly_the_locked_packages(lock: str) -> None:
    sbom = json.loads(SBOMS[lock].read_text(encoding="utf-8"))
    message = STALE.format(sbom=SBOMS[lock].relative_to(ROOT), lock=lock)
    locked, listed = _lock_pins(ROOT / lock), _sbom_pins(sbom)
    assert listed == locked, f"{message}; only in the lock: {sorted(locked - listed)}, " \
                             f"only in the SBOM: {sorted(listed - locked)}"
    assert len(sbom["components"]) == len(locked), message  # no package twice


@pytest.mark.parametrize("lock", sorted(SBOMS))
def test_the_sbom_describes_this_version_reproducibly(lock: str) -> None:
    sbom = json.loads(SBOMS[lock].read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    root = sbom["metadata"]["component"]
    assert (root["name"], root["version"]) == ("auskunft", _pyproject_version()), \
        STALE.format(sbom=SBOMS[lock].relative_to(ROOT), lock="pyproject.toml")
    # --output-reproducible: no random serial number, no timestamp, so an unchanged lock gives an unchanged file
    assert "serialNumber" not in sbom and "timestamp" not in sbom["metadata"]


def test_a_stale_sbom_is_found(tmp_path: Path) -> None:
    sbom = json.loads(SBOMS["requirements.lock"].read_text(encoding="utf-8"))
    sbom["components"] = [c for c in sbom["components"] if canonicalize_name(c["name"]) != "aiohttp"]
    assert ("aiohttp", "3.9.5") in _lock_pins(ROOT / "requirements.lock") - _sbom_pins(sbom)
