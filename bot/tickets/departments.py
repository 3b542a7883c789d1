"""Departments (Bürgeramt, Standesamt, ...) and which one receives a ticket.

Read from ``departments.yml``: each department lists the kb ``owner`` values it answers for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

from bot.errors import AuskunftError

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class DepartmentsError(AuskunftError, ValueError):
    """``departments.yml`` is invalid; the message names the file and what to fix."""


@dataclass(frozen=True)
class Department:
    """One office with its own ticket queue."""

    key: str
    name: str
    owners: Tuple[str, ...]


class Departments:
    """All departments and the routing from kb owners to them.

    Args:
        departments: the departments, by key.
        default: the key of the department that gets tickets nobody else owns.
        source: where they were read from (for error messages).
    """

    def __init__(self, departments: Mapping[str, Department], default: str, source: str = "departments") -> None:
        if not departments:
            raise DepartmentsError(f"{source}: no departments defined")
        if default not in departments:
            raise DepartmentsError(f"{source}: default {default!r} is not one of the departments "
                                   f"({', '.join(sorted(departments))})")
        self.by_key: Dict[str, Department] = dict(departments)
        self.default = default
        self._by_owner: Dict[str, str] = {}
        for dept in departments.values():
            for owner in dept.owners:
                other = self._by_owner.setdefault(owner.casefold(), dept.key)
                if other != dept.key:
                    raise DepartmentsError(f"{source}: owner {owner!r} is listed under both {other!r} and {dept.key!r}")

    @classmethod
    def load(cls, path: Path) -> "Departments":
        """Read and validate ``departments.yml``.

        Raises:
            DepartmentsError: the file is missing or invalid (names the file and the problem).
        """
        if not path.is_file():
            raise DepartmentsError(f"{path}: not found; copy departments.yml from the project or set "
                                   "AUSKUNFT_DEPARTMENTS_FILE")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise DepartmentsError(f"{path}: not valid YAML: {err}") from None
        entries = raw.get("departments") if isinstance(raw, dict) else None
        if not isinstance(entries, dict):
            raise DepartmentsError(f"{path}: needs a mapping 'departments:' of key → {{name, owners}}")
        departments: Dict[str, Department] = {}
        for key, spec in entries.items():
            if not isinstance(key, str) or not KEY.match(key):
                raise DepartmentsError(f"{path}: department key {key!r} must be lowercase letters, digits and '-'")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise DepartmentsError(f"{path}: department {key!r} needs a 'name'")
            owners = spec.get("owners") or []
            if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
                raise DepartmentsError(f"{path}: 'owners' of {key!r} must be a list of kb owner names")
            departments[key] = Department(key, spec["name"], tuple(owners))
        return cls(departments, str(raw.get("default", "")), str(path))

    def for_owner(self, owner: Optional[str]) -> Optional[str]:
        """The department answering for a kb ``owner`` (None if unknown)."""
        return self._by_owner.get((owner or "").casefold())

    def route(self, candidates: Iterable[Tuple[Optional[str], float]]) -> str:
        """The department for a ticket from its candidates' (owner, score): highest summed score, else default."""
        totals: Dict[str, float] = defaultdict(float)
        for owner, score in candidates:
            key = self.for_owner(owner)
            if key is not None:
                totals[key] += max(float(score), 0.0)
        if not totals:
            return self.default
        return max(sorted(totals), key=lambda k: totals[k])

    def name(self, key: Optional[str]) -> str:
        """The display name of a department key (the key itself if unknown)."""
        dept = self.by_key.get(key or "")
        return dept.name if dept else (key or "")

    def keys(self) -> List[str]:
        """All department keys, in file order."""
        return list(self.by_key)
