"""A kb made of layers: shared directories first, local ones last; a later entry replaces an earlier one by id.

Each layer is validated on its own (file and line in every problem, as for a single kb);
any problem in any layer rejects the whole layered kb, so the agency keeps its last good index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

from bot.kb.entry import FaqEntry
from bot.kb.errors import KbIssue, KbValidationError
from bot.kb.loader import KnowledgeBase, load_kb


@dataclass(frozen=True)
class Override:
    """An entry of a later layer that replaces a shared one with the same id."""

    id: str
    shared: str  # the replaced file, as '<layer>/<path>'
    local: str  # the replacing file, as '<layer>/<path>'


@dataclass(frozen=True)
class LayeredKb:
    """The merged kb and what each layer contributed."""

    kb: KnowledgeBase
    overrides: List[Override] = field(default_factory=list)
    origin: Dict[str, int] = field(default_factory=dict)  # entry id -> index of the layer it comes from


def load_layers(layers: Sequence[Path]) -> LayeredKb:
    """Load and merge kb layers, shared first.

    Args:
        layers: kb directories; an entry in a later one replaces an earlier entry with the same id.

    Returns:
        The merged kb: shared entries in their order (replaced ones in place), then new local entries.

    Raises:
        KbValidationError: any layer has a problem; lists every problem of every layer.
        ValueError: no layers were given.
    """
    if not layers:
        raise ValueError("a kb needs at least one layer (directory)")
    issues: List[KbIssue] = []
    loaded: List[KnowledgeBase] = []
    for layer in layers:
        try:
            loaded.append(load_kb(layer))
        except KbValidationError as err:
            issues.extend(err.issues if len(layers) == 1 else [_in_layer(issue, layer) for issue in err.issues])
    if issues:
        raise KbValidationError(issues)
    return merge_layers(loaded, [layer.name for layer in layers])


def merge_layers(kbs: Sequence[KnowledgeBase], names: Sequence[str]) -> LayeredKb:
    """Merge validated kbs, shared first (see :func:`load_layers`); ``names`` label the layers in overrides."""
    if len(kbs) == 1:
        return LayeredKb(kbs[0], [], {entry.id: 0 for entry in kbs[0].entries})
    merged: Dict[str, FaqEntry] = {}
    origin: Dict[str, int] = {}
    overrides: List[Override] = []
    for position, kb in enumerate(kbs):
        for entry in kb.entries:
            if entry.id in merged:
                overrides.append(Override(entry.id, f"{names[origin[entry.id]]}/{merged[entry.id].path}",
                                          f"{names[position]}/{entry.path}"))
            merged[entry.id] = entry  # dict keeps the first position of a key: overrides stay in place
            origin[entry.id] = position
    digest = hashlib.sha256()
    for entry in merged.values():  # the layer order decides which text is live, so it is part of the hash
        digest.update(f"{origin[entry.id]}:{entry.content_hash}".encode("ascii"))
    return LayeredKb(KnowledgeBase(tuple(merged.values()), digest.hexdigest()), overrides, origin)


def _in_layer(issue: KbIssue, layer: Path) -> KbIssue:
    """The issue with its file named relative to the layer's parent, so editors see which layer."""
    path = issue.path if issue.path.startswith(str(layer)) else f"{layer.name}/{issue.path}"
    return KbIssue(path, issue.line, issue.field, issue.message, issue.code, issue.params)
