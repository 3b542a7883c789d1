"""``make audit`` (.ci/audit.py): documented exceptions, unexplained findings, and no false "clean" when the
advisory service is out of reach. pip-audit itself is replaced by recorded reports: offline and fast."""

from __future__ import annotations

import datetime
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date(2026, 12, 1)
# What pip-audit 2.10.1 printed on a machine where pypi.org/pypi/<name>/<version>/json answers 404 and
# api.osv.dev does not resolve (exit status 0 and "No known vulnerabilities found" for the first).
PYPI_404 = {"dependencies": [{"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be "
                                                                "audited: aiohttp (3.9.5)"}], "fixes": []}
OSV_DOWN = ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries "
            "exceeded with url: /v1/query (Caused by NameResolutionError(...))")


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auskunft_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _vuln(name: str, version: str, vid: str, aliases: List[str]) -> Dict[str, Any]:
    return {"name": name, "version": version,
            "vulns": [{"id": vid, "aliases": aliases, "fix_versions": ["9.9"], "description": "..."}]}


def _runner(report: Optional[Dict[str, Any]], stderr: str = "") -> Any:
    def run(_lock: Path, _service: str, _timeout: int) -> Tuple[Optional[Dict[str, Any]], str]:
        return report, stderr
    return run


def _exceptions(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "exceptions.toml"
    path.write_text(body)
    return path


def _lock(tmp_path: Path, lines: str = "aiohttp==3.9.5\nsanic==21.12.2\nrequests==2.34.2\n") -> Path:
    path = tmp_path / "requirements.lock"
    path.write_text("# header\n" + lines)
    return path


ONE = """[[exception]]
package = "aiohttp"
version = "3.9.5"
advisories = ["CVE-2024-52304"]
pinned_by = "rasa"
reason = "request smuggling in the pure-Python parser"
mitigation = "no aiohttp server runs"
review_by = 2027-06-30
"""


def test_the_shipped_exceptions_name_the_issues_advisories_with_reason_and_mitigation(audit: ModuleType) -> None:
    exceptions, problems = audit.load_exceptions()
    assert problems == []
    assert {(e.package, e.version) for e in exceptions} >= {("sanic", "21.12.2"), ("aiohttp", "3.9.5"),
                                                            ("tensorflow", "2.12.0")}
    for item in exceptions:
        assert len(item.reason) > 80 and len(item.mitigation) > 80 and "rasa" in item.pinned_by


def test_the_shipped_exceptions_match_the_versions_in_requirements_lock(audit: ModuleType) -> None:
    exceptions, _ = audit.load_exceptions()
    assert audit.stale_exceptions(exceptions, audit.lock_pins(), TODAY) == []


def test_a_covered_finding_passes_and_is_printed(audit: ModuleType, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [_vuln("aiohttp", "3.9.5", "PYSEC-2024-1", ["CVE-2024-52304", "GHSA-x"]),
                               {"name": "requests", "version": "2.34.2", "vulns": []}]}
    status = audit.audit(_lock(tmp_path), _exceptions(tmp_path, ONE), "pypi", runner=_runner(report), today=TODAY)
    out = capsys.readouterr().out
    assert status == 0 and "accepted  aiohttp 3.9.5: PYSEC-2024-1 / CVE-2024-52304" in out
    assert "0 unexplained findings, 1 accepted" in out


def test_an_unexplained_finding_fails(audit: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [_vuln("aiohttp", "3.9.5", "PYSEC-2025-9", ["CVE-2025-53643"]),
                               _vuln("requests", "2.34.2", "GHSA-new", [])]}
    status = audit.audit(_lock(tmp_path), _exceptions(tmp_path, ONE), "pypi", runner=_runner(report), today=TODAY)
    err = capsys.readouterr().err
    assert status == 1
    assert "unexplained finding: aiohttp 3.9.5: PYSEC-2025-9 / CVE-2025-53643" in err  # another advisory: not covered
    assert "unexplained finding: requests 2.34.2: GHSA-new" in err and "2 unexplained finding(s)" in err


def test_all_advisories_of_one_version_only(audit: ModuleType, tmp_path: Path) -> None:
    exceptions, _ = audit.load_exceptions(_exceptions(tmp_path, ONE.replace('["CVE-2024-52304"]', '"all"')))
    accepted, unexplained, _ = audit.judge({"dependencies": [_vuln("aiohttp", "3.9.5", "X-1", []),
                                                             _vuln("aiohttp", "3.9.6", "X-2", [])]}, exceptions)
    assert len(accepted) == 1 and unexplained == ["aiohttp 3.9.6: X-2 (fixed in 9.9)"]


def test_an_unreachable_service_is_not_a_clean_audit(audit: ModuleType, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    lock, exceptions = _lock(tmp_path), _exceptions(tmp_path, ONE)
    assert audit.audit(lock, exceptions, "pypi", runner=_runner(PYPI_404), today=TODAY) == 2
    err = capsys.readouterr().err
    assert "https://pypi.org/pypi/<name>/<version>/json" in err and "1 of 1 packages" in err
    assert "not audited" in err and "AUDIT_SERVICE=osv" in err
    assert audit.audit(lock, exceptions, "osv", runner=_runner(None, "Traceback ...\n" + OSV_DOWN), today=TODAY) == 2
    err = capsys.readouterr().err
    assert "'osv' (https://api.osv.dev/v1/query); nothing was audited" in err
    assert OSV_DOWN in err and "where api.osv.dev is reachable" in err


@pytest.mark.parametrize("lock_lines, today, expected", [
    ("aiohttp==3.10.11\n", TODAY, "requirements.lock pins 3.10.11; remove or update the exception"),
    ("requests==2.34.2\n", TODAY, "requirements.lock pins no such package"),
    ("aiohttp==3.9.5\n", datetime.date(2027, 7, 1), "review date 2027-06-30 has passed"),
])
def test_stale_exceptions_fail_before_anything_is_asked(audit: ModuleType, tmp_path: Path, lock_lines: str,
                                                        today: datetime.date, expected: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def never(*_args: Any) -> Any:
        raise AssertionError("pip-audit must not run with stale exceptions")

    status = audit.audit(_lock(tmp_path, lock_lines), _exceptions(tmp_path, ONE), "pypi", runner=never, today=today)
    assert status == 1 and expected in capsys.readouterr().err


@pytest.mark.parametrize("broken, expected", [
    (ONE.replace('mitigation = "no aiohttp server runs"\n', ""), "missing mitigation"),
    (ONE.replace('["CVE-2024-52304"]', '"some"'), 'advisories must be "all" or a list of IDs'),
    (ONE.replace("review_by = 2027-06-30", 'review_by = "soon"'), "review_by must be a date"),
])
def test_malformed_exceptions_are_named(audit: ModuleType, tmp_path: Path, broken: str, expected: str) -> None:
    _, problems = audit.load_exceptions(_exceptions(tmp_path, broken))
    assert len(problems) == 1 and expected in problems[0]
