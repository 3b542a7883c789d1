"""The import graph: no circles among the web app's modules; the web app and the actions never import the supervisor."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

from tests.conftest import ROOT


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Set[str]:
    """Every module ``path`` imports, wherever in the file (a deferred import still closes a circle)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # ``from bot.web import openapi``
    return found


def graph(package: str) -> Dict[str, Set[str]]:
    """The package's modules and which of them each imports."""
    files = {module_name(path): path for path in (ROOT / package.replace(".", "/")).rglob("*.py")}
    return {name: {target for target in imports(path) if target in files and target != name}
            for name, path in files.items()}


def circles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """Import circles (each found once per module that starts one), by depth-first search."""
    found: List[List[str]] = []

    def visit(node: str, path: List[str], done: Set[str]) -> None:
        for target in sorted(edges[node]):
            if target == path[0]:
                found.append([*path, target])
            elif target not in path and target not in done:
                visit(target, [*path, target], done)
        done.add(node)

    for start in sorted(edges):
        visit(start, [start], set())
    return found


def test_the_circle_finder_finds_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[0] == ["a", "b", "c", "a"]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_web_app_has_no_import_circles() -> None:
    edges = graph("bot.web")
    assert "bot.web.openapi" in edges["bot.web.app"]  # the graph sees the app's imports
    assert circles(edges) == []


def test_the_web_app_and_the_actions_do_not_import_the_process_supervisor() -> None:
    offenders = sorted(module_name(path) for folder in ("bot/web", "actions") for path in (ROOT / folder).rglob("*.py")
                       if "bot.run.services" in imports(path))
    assert offenders == []


def imported_test_modules(path: Path) -> List[str]:
    """The ``test_*`` modules ``path`` imports from, absolute or relative (shared helpers belong in tests/helpers)."""
    found: List[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if any(
                part.startswith("test_") for part in alias.name.split(".")))
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if any(part.startswith("test_") for part in (node.module or "").split(".")):
                found.append(module)
            else:  # ``from tests.unit import test_inbox``, ``from . import test_inbox``
                found.extend(module + ("" if module.endswith(".") else ".") + alias.name
                             for alias in node.names if alias.name.startswith("test_"))
    return found


def test_no_file_under_tests_imports_from_a_test_module(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("from tests.unit.test_ticket_api import TOKEN\nimport tests.e2e.test_widget\n"
                       "from tests.unit import test_inbox\nfrom .test_kb_loader import write\nfrom . import test_outbox\n"
                       "from tests.helpers.ticket_api import AUTH\nimport pytest\n", encoding="utf-8")
    assert imported_test_modules(planted) == ["tests.unit.test_ticket_api", "tests.e2e.test_widget",
                                              "tests.unit.test_inbox", ".test_kb_loader", ".test_outbox"]
    files = [path for path in (ROOT / "tests").rglob("*.py") if "node_modules" not in path.parts]
    assert ROOT / "tests" / "unit" / "test_inbox.py" in files and ROOT / "tests" / "helpers" / "inbox.py" in files
    offenders = {str(path.relative_to(ROOT)): imported_test_modules(path) for path in sorted(files)}
    assert {path: modules for path, modules in offenders.items() if modules} == {}
