"""Audit requirements.lock for known vulnerabilities with pip-audit, with the documented exceptions (``make audit``).

pip-audit asks an advisory service about every pinned package (``pypi``: ``https://pypi.org/pypi/<name>/<version>/json``;
``osv``: ``https://api.osv.dev/v1/query``). This script runs it, then judges its JSON report against
``.ci/audit-exceptions.toml``:

* exit 0: every finding is covered by an exception (each accepted finding is printed with its reason);
* exit 1: an unexplained finding, or an exception that is malformed, past its review date or names a version
  that requirements.lock no longer pins;
* exit 2: nothing was audited: the service could not be reached, or it did not know the packages (pip-audit
  itself then skips them and reports "No known vulnerabilities found", which must not pass for a clean audit).

Usage, with a Python that has pip-audit 2.10.1 (``make audit`` installs it into a tool venv under /tmp)::

    python .ci/audit.py [--service pypi|osv] [--lock requirements.lock] [--exceptions .ci/audit-exceptions.toml]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
EXCEPTIONS = ROOT / ".ci" / "audit-exceptions.toml"
SERVICES = {"pypi": "https://pypi.org/pypi/<name>/<version>/json", "osv": "https://api.osv.dev/v1/query"}
REQUIRED = ("package", "version", "advisories", "pinned_by", "reason", "mitigation", "review_by")
Report = Dict[str, Any]
Runner = Callable[[Path, str, int], Tuple[Optional[Report], str]]


@dataclass(frozen=True)
class AuditException:
    """One accepted package version: which advisories, why, and how the deployment limits the exposure."""

    package: str
    version: str
    advisories: Union[str, Tuple[str, ...]]  # "all" or IDs
    pinned_by: str
    reason: str
    mitigation: str
    review_by: datetime.date

    def covers(self, name: str, version: str, ids: Sequence[str]) -> bool:
        """Whether this exception accepts an advisory (its ID and aliases) for ``name`` at ``version``."""
        if _canonical(name) != _canonical(self.package) or version != self.version:
            return False
        return self.advisories == "all" or bool(set(ids) & set(self.advisories))


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _toml(text: str) -> Dict[str, Any]:
    try:
        import tomllib as toml  # type: ignore[import-not-found]
    except ModuleNotFoundError:
        import tomli as toml
    return dict(toml.loads(text))


def load_exceptions(path: Path = EXCEPTIONS) -> Tuple[List[AuditException], List[str]]:
    """The exceptions in ``path`` and a problem line for each malformed entry."""
    found: List[AuditException] = []
    problems: List[str] = []
    for number, entry in enumerate(_toml(path.read_text(encoding="utf-8")).get("exception", []), start=1):
        missing = [key for key in REQUIRED if not entry.get(key)]
        if missing:
            problems.append(f"{path.name}: exception {number}: missing {', '.join(missing)}")
            continue
        advisories = entry["advisories"]
        if advisories != "all" and not (isinstance(advisories, list) and all(isinstance(a, str) for a in advisories)):
            problems.append(f"{path.name}: exception {number} ({entry['package']}): advisories must be \"all\" "
                            "or a list of IDs")
            continue
        if not isinstance(entry["review_by"], datetime.date):
            problems.append(f"{path.name}: exception {number} ({entry['package']}): review_by must be a date "
                            "(2027-06-30)")
            continue
        found.append(AuditException(entry["package"], str(entry["version"]),
                                    advisories if advisories == "all" else tuple(advisories),
                                    entry["pinned_by"], entry["reason"], entry["mitigation"], entry["review_by"]))
    return found, problems


def lock_pins(path: Path = LOCK) -> Dict[str, str]:
    """Canonical package name -> pinned version of a lock file."""
    pins: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "--hash")):  # a pin is followed by its hashes
            name, version = line.split()[0].split("==")
            pins[_canonical(name)] = version
    return pins


def stale_exceptions(exceptions: Sequence[AuditException], pins: Dict[str, str],
                     today: Optional[datetime.date] = None) -> List[str]:
    """Exceptions that no longer describe the lock file (another version) or are past their review date."""
    day = today or datetime.date.today()
    problems: List[str] = []
    for item in exceptions:
        pinned = pins.get(_canonical(item.package))
        if pinned != item.version:
            problems.append(f"exception for {item.package} {item.version}: requirements.lock pins "
                            f"{pinned or 'no such package'}; remove or update the exception")
        if item.review_by < day:
            problems.append(f"exception for {item.package} {item.version}: review date {item.review_by} has "
                            "passed; check for a fix and whether the mitigation still holds, then renew or remove it")
    return problems


def judge(report: Report, exceptions: Sequence[AuditException]) -> Tuple[List[str], List[str], List[str]]:
    """Split pip-audit's JSON report into accepted findings, unexplained findings and skipped packages."""
    accepted: List[str] = []
    unexplained: List[str] = []
    skipped: List[str] = []
    for dependency in report.get("dependencies", []):
        name, version = dependency["name"], dependency.get("version", "?")
        if "skip_reason" in dependency:
            skipped.append(f"{name}: {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            label = f"{name} {version}: {' / '.join(ids)} (fixed in {', '.join(vuln.get('fix_versions', [])) or '-'})"
            match = next((e for e in exceptions if e.covers(name, version, ids)), None)
            if match is None:
                unexplained.append(label)
            else:
                accepted.append(f"{label}\n      accepted: {match.reason.splitlines()[0][:160]}")
    return accepted, unexplained, skipped


def run_pip_audit(lock: Path, service: str, timeout: int) -> Tuple[Optional[Report], str]:
    """Run pip-audit on ``lock`` (no resolution: the lock pins everything); its JSON report and its stderr."""
    with tempfile.TemporaryDirectory(prefix="auskunft-audit-") as tmp:
        output = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "-r", str(lock), "--no-deps", "--disable-pip",
                   "-s", service, "-f", "json", "-o", str(output), "--progress-spinner", "off",
                   "--timeout", str(timeout), "--cache-dir", str(Path(tmp) / "cache")]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        report = json.loads(output.read_text(encoding="utf-8")) if output.is_file() else None
        return report, done.stderr


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def audit(lock: Path, exceptions_path: Path, service: str, timeout: int = 15,
          runner: Runner = run_pip_audit, today: Optional[datetime.date] = None) -> int:
    """The whole check; prints what it found and returns the exit status (0, 1 or 2, see the module text)."""
    exceptions, problems = load_exceptions(exceptions_path)
    problems += stale_exceptions(exceptions, lock_pins(lock), today)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    report, stderr = runner(lock, service, timeout)
    where = SERVICES.get(service, service)
    other = "osv" if service == "pypi" else "pypi"
    retry = f"Run 'make audit' where {where.split('/')[2]} is reachable, or try AUDIT_SERVICE={other}."
    if report is None:
        print(f"error: pip-audit could not query the advisory service '{service}' ({where}); nothing was "
              f"audited.\n  {_last_error(stderr)}\n{retry}", file=sys.stderr)
        return 2
    accepted, unexplained, skipped = judge(report, exceptions)
    total = len(report.get("dependencies", []))
    if skipped:
        print(f"error: the advisory service '{service}' ({where}) had no answer for {len(skipped)} of {total} "
              f"packages (not found, or not reachable), so they were not audited, although pip-audit reports 'No "
              f"known vulnerabilities found'; first: {skipped[0]}.\n{retry}", file=sys.stderr)
        return 2
    for line in accepted:
        print(f"accepted  {line}")
    for line in unexplained:
        print(f"error: unexplained finding: {line}", file=sys.stderr)
    if unexplained:
        print(f"{len(unexplained)} unexplained finding(s): upgrade the package (pyproject.toml, 'make lock') or, "
              f"where that is impossible, document it in {exceptions_path.name} with reason and mitigation",
              file=sys.stderr)
        return 1
    print(f"ok: {total} packages of {lock.name} audited against '{service}': 0 unexplained findings, "
          f"{len(accepted)} accepted ({exceptions_path.name})")
    return 0


def main() -> int:
    """Command line (see the module text)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=sorted(SERVICES), default="pypi")
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    parser.add_argument("--timeout", type=int, default=15, help="seconds per request to the service")
    args = parser.parse_args()
    return audit(args.lock, args.exceptions, args.service, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
