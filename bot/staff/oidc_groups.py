"""Which groups of the identity provider give which rights in Auskunft (``oidc_groups_file``, YAML).

The file lists each provider group (exactly as the provider sends it in the ``groups`` claim, e.g. Keycloak's full
path ``/Auskunft/Bürgerservice``) with what its members get::

    groups:
      /Auskunft/Bürgerservice:
        departments: [buergerservice]
      /Auskunft/Leitung:
        roles: [manager]
      /Auskunft/Redaktion:
        roles: [editor]
        agencies: [musterstadt]

A person gets the union of all their mapped groups: departments (keys of ``departments.yml``), agencies (keys of
``agencies.yml``) and roles (``manager``, ``editor``). Where the deployment serves several agencies, every group must
name its agencies (nobody gets every agency by omission); with one agency they may be left out (every agency).
Groups not in the file are ignored; a person in none of them cannot sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.errors import AuskunftError

ROLES = ("manager", "editor")
FIELDS = ("departments", "agencies", "roles")


class GroupMappingError(AuskunftError, ValueError):
    """The group mapping file is missing or invalid; the message names the file, the group and the value."""


@dataclass(frozen=True)
class Rights:
    """What a person gets from their mapped groups."""

    departments: Tuple[str, ...]
    agencies: Optional[Tuple[str, ...]]  # None = every agency
    manager: bool
    editor: bool


@dataclass(frozen=True)
class GroupMapping:
    """Provider group → departments, agencies and roles (see the module)."""

    by_group: Dict[str, Dict[str, Tuple[str, ...]]]

    @classmethod
    def load(cls, path: Path, departments: Iterable[str], agencies: Iterable[str]) -> "GroupMapping":
        """Read and check the file against the configured department and agency keys.

        Raises:
            GroupMappingError: the file is missing, is not YAML of the documented form, or names an unknown
                department, agency or role.
        """
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise GroupMappingError(f"oidc_groups_file {str(path)!r} cannot be read ({err.strerror}); create it "
                                    "as described in docs/agents.md") from err
        except yaml.YAMLError as err:
            raise GroupMappingError(f"oidc_groups_file {str(path)!r} is not valid YAML: {err}") from err
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, dict) or not groups:
            raise GroupMappingError(f"oidc_groups_file {str(path)!r}: expected a 'groups:' map of provider group "
                                    "names to departments, agencies and roles")
        known = {"departments": list(departments), "agencies": list(agencies), "roles": list(ROLES)}
        mapping = {str(group): _entry(path, str(group), entry, known) for group, entry in groups.items()}
        for group, entry in mapping.items():
            if len(known["agencies"]) > 1 and not entry.get("agencies"):
                raise GroupMappingError(f"oidc_groups_file {str(path)!r}, group {group!r}: this deployment serves "
                                        f"several agencies ({', '.join(known['agencies'])}); name the agencies of "
                                        f"the group's members, e.g. agencies: [{known['agencies'][0]}]")
        return cls(mapping)

    def rights(self, groups: Sequence[str]) -> Optional[Rights]:
        """The union of the rights of ``groups``; None when none of them is mapped (no sign-in)."""
        mapped = [self.by_group[g] for g in groups if g in self.by_group]
        if not mapped:
            return None
        merged: Dict[str, List[str]] = {field: [] for field in FIELDS}
        for entry in mapped:
            for field in FIELDS:
                merged[field] += [v for v in entry.get(field, ()) if v not in merged[field]]
        named_agencies = any("agencies" in entry for entry in mapped)
        return Rights(departments=tuple(merged["departments"]),
                      agencies=tuple(merged["agencies"]) if named_agencies else None,
                      manager="manager" in merged["roles"], editor="editor" in merged["roles"])


def _entry(path: Path, group: str, entry: Any, known: Dict[str, List[str]]) -> Dict[str, Tuple[str, ...]]:
    """One group's entry, checked."""
    where = f"oidc_groups_file {str(path)!r}, group {group!r}"
    if not isinstance(entry, dict) or not entry:
        raise GroupMappingError(f"{where}: expected departments, agencies and/or roles, got {entry!r}")
    checked: Dict[str, Tuple[str, ...]] = {}
    for field, values in entry.items():
        if field not in FIELDS:
            raise GroupMappingError(f"{where}: unknown key {field!r}; one of {', '.join(FIELDS)}")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise GroupMappingError(f"{where}: {field} must be a list of keys, e.g. [{known[field][0]}]"
                                    if known[field] else f"{where}: {field} must be a list of keys")
        for value in values:
            if value not in known[field]:
                raise GroupMappingError(f"{where}: unknown {field[:-1] if field != 'agencies' else 'agency'} "
                                        f"{value!r}; one of {', '.join(known[field])}")
        checked[field] = tuple(values)
    if not checked.get("departments") and not checked.get("roles"):
        raise GroupMappingError(f"{where}: give at least one department or role (agencies alone grant no work)")
    return checked
