"""Several agencies in one deployment: each has its own kb (in layers) and its own widget key.

A district and its towns can share one installation. Each agency names an ordered list of
kb directories (*layers*): a shared layer (e.g. federal or district rules) first, the town's
own entries last; an entry in a later layer replaces the entry with the same id in an earlier
one. Each agency gets its own published index, so a question asked through town A's widget is
only ever answered from town A's layers.

``agencies.yml``::

    default: musterstadt            # widgets without data-agency talk to this one
    agencies:
      musterstadt:
        name: Stadt Musterstadt
        kb: [kb]                    # paths relative to this file
      adorf:
        name: Gemeinde Adorf
        kb: [kb, adorf]             # kb/ shared, adorf/ overrides by id and adds entries

Without the file there is one agency, ``default``, whose kb is ``AUSKUNFT_KB_DIR``. The
default agency's index stays where a single-agency deployment keeps it, so adding the file
later changes nothing for the existing widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bot.errors import AuskunftError

AGENCY_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DEFAULT_KEY = "default"


class AgencyConfigError(AuskunftError, ValueError):
    """``agencies.yml`` is invalid; the message names the file, the agency and what to change."""


class UnknownAgency(AuskunftError, LookupError):
    """A widget named an agency this deployment does not serve."""

    def __init__(self, key: str) -> None:
        super().__init__(f"unknown agency {key!r}; check the widget's data-agency attribute")
        self.key = key


@dataclass(frozen=True)
class Agency:
    """One agency: its key (the widget's ``data-agency``), display name and kb layers, shared first."""

    key: str
    name: str
    layers: Tuple[Path, ...]
    is_default: bool = False

    def index_dir(self, root: Path) -> Path:
        """Where this agency's index versions are published (``root`` for the default agency)."""
        return root if self.is_default else root / "agencies" / self.key


@dataclass(frozen=True)
class Agencies:
    """The agencies of a deployment, by key."""

    by_key: Dict[str, Agency]
    default: Agency

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)

    def get(self, key: Optional[str]) -> Agency:
        """The agency a widget named; no key means the default agency.

        Raises:
            UnknownAgency: ``key`` names no agency of this deployment.
        """
        if not key:
            return self.default
        try:
            return self.by_key[key]
        except KeyError:
            raise UnknownAgency(key) from None

    def layer_dirs(self) -> List[Path]:
        """Every kb directory any agency uses, each once."""
        seen: Dict[Path, None] = {}
        for agency in self:
            for layer in agency.layers:
                seen.setdefault(layer, None)
        return list(seen)

    @classmethod
    def single(cls, kb_dir: Path) -> "Agencies":
        """The one-agency deployment: ``kb_dir`` is the whole kb."""
        agency = Agency(DEFAULT_KEY, "", (kb_dir,), is_default=True)
        return cls({DEFAULT_KEY: agency}, agency)

    @classmethod
    def load(cls, path: Optional[Path], kb_dir: Path) -> "Agencies":
        """Read ``agencies.yml``; a missing or unset file means :meth:`single`.

        Raises:
            AgencyConfigError: the file is invalid (names file, agency and the fix).
        """
        if path is None or not path.is_file():
            return cls.single(kb_dir)
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise AgencyConfigError(f"{path}: not valid YAML ({err})") from None
        if not isinstance(content, dict) or not isinstance(content.get("agencies"), dict) or not content["agencies"]:
            raise AgencyConfigError(f"{path}: expected a mapping 'agencies:' with at least one agency")
        agencies = [_agency(path, key, item) for key, item in content["agencies"].items()]
        default_key = content.get("default", agencies[0].key if len(agencies) == 1 else None)
        keys = [a.key for a in agencies]
        if default_key not in keys:
            raise AgencyConfigError(f"{path}: 'default' must name one of {', '.join(keys)} (got {default_key!r}); "
                                    "it answers widgets without data-agency")
        by_key = {a.key: Agency(a.key, a.name, a.layers, a.key == default_key) for a in agencies}
        return cls(by_key, by_key[str(default_key)])


def _agency(path: Path, key: object, item: object) -> Agency:
    if not isinstance(key, str) or not AGENCY_KEY.match(key):
        raise AgencyConfigError(f"{path}: agency key {key!r} must be 1-40 lowercase letters, digits or '-' "
                                "(it is the widget's data-agency)")
    if not isinstance(item, dict):
        raise AgencyConfigError(f"{path}: agency {key!r} must be a mapping with 'name' and 'kb'")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AgencyConfigError(f"{path}: agency {key!r} needs a 'name' (shown to agents and editors)")
    layers = item.get("kb")
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, list) or not layers or not all(isinstance(p, str) for p in layers):
        raise AgencyConfigError(f"{path}: agency {key!r}: 'kb' must list kb directories, shared ones first")
    resolved = _layers(path, str(key), layers)
    unknown = set(item) - {"name", "kb"}
    if unknown:
        raise AgencyConfigError(f"{path}: agency {key!r}: unknown field(s) {', '.join(sorted(unknown))} "
                                "(known: name, kb)")
    return Agency(str(key), name.strip(), resolved)


def _layers(path: Path, key: str, layers: Sequence[str]) -> Tuple[Path, ...]:
    resolved = []
    for layer in layers:
        directory = (path.parent / layer).resolve()
        if not directory.is_dir():
            raise AgencyConfigError(f"{path}: agency {key!r}: kb directory {layer!r} ({directory}) does not exist")
        if directory in resolved:
            raise AgencyConfigError(f"{path}: agency {key!r}: kb directory {layer!r} is listed twice")
        resolved.append(directory)
    return tuple(resolved)
