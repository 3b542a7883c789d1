"""One error hierarchy: every exception class the project defines derives from :class:`bot.errors.AuskunftError`."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path
from typing import List, Set, Type

import pytest

import bot
from bot.errors import AuskunftError

# The errors the project raised before the hierarchy existed, with the builtin base callers catch them by.
KNOWN = {"KbSourceError": ValueError, "NotSqlStore": Exception, "NoDatabaseYet": Exception,
         "MessageRejected": ValueError, "KbValidationError": ValueError, "EraseUnsupported": ValueError,
         "ProvisionError": RuntimeError, "AgencyConfigError": ValueError, "UnknownAgency": LookupError,
         "TicketConflict": ValueError, "DepartmentsError": ValueError, "PasswordTooShort": ValueError,
         "LoginThrottled": Exception, "DeliveryError": Exception, "DeliveryRejected": Exception}


# Alembic's environment script runs only inside Alembic (it reads ``alembic.context.config`` when loaded), so it is
# read instead of imported: it must define no class at all (checked below), so no exception class can hide there.
RUN_BY_ALEMBIC = {"bot.db.migrations.env"}


def defines_classes(module: str) -> bool:
    """Whether the source of ``module`` (found without importing it) defines any class."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return any(isinstance(node, ast.ClassDef) for node in ast.walk(tree))


def import_every_module() -> List[str]:
    """Import every module under ``bot`` (a module that fails to import fails the test: nothing is skipped)."""
    names = [info.name for info in pkgutil.walk_packages(bot.__path__, prefix="bot.")]
    for name in names:
        if name in RUN_BY_ALEMBIC:
            assert not defines_classes(name), f"{name} is not imported here, so it must not define classes"
        else:
            importlib.import_module(name)
    return names


def project_exceptions() -> Set[Type[BaseException]]:
    """Every exception class defined in a ``bot`` module (also nested ones), found through the class tree."""
    found: Set[Type[BaseException]] = set()
    pending: List[Type[BaseException]] = [BaseException]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                pending.append(sub)
                found.add(sub)
    return {cls for cls in found if cls.__module__ == "bot" or cls.__module__.startswith("bot.")}


@pytest.fixture(scope="module")
def exceptions() -> Set[Type[BaseException]]:
    assert len(import_every_module()) > 50
    return project_exceptions()


def test_every_project_exception_derives_from_the_root(exceptions: Set[Type[BaseException]]) -> None:
    outside = sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in exceptions if not issubclass(cls, AuskunftError))
    assert outside == [], f"derive these from bot.errors.AuskunftError: {', '.join(outside)}"


def test_the_known_errors_are_found_and_keep_their_builtin_base(exceptions: Set[Type[BaseException]]) -> None:
    by_name = {cls.__name__: cls for cls in exceptions}
    assert set(KNOWN) <= set(by_name), f"not found: {sorted(set(KNOWN) - set(by_name))}"
    for name, builtin in KNOWN.items():
        assert issubclass(by_name[name], AuskunftError) and issubclass(by_name[name], builtin), name
    assert AuskunftError in exceptions and AuskunftError.__bases__ == (Exception,)


def test_callers_catching_the_builtin_still_catch_the_error() -> None:
    from bot.config.agencies import Agencies, UnknownAgency
    from bot.config.settings import PROJECT_ROOT

    agencies = Agencies.single(PROJECT_ROOT / "kb")
    with pytest.raises(LookupError):
        agencies.get("nirgendwo")
    with pytest.raises(AuskunftError) as caught:
        agencies.get("nirgendwo")
    assert isinstance(caught.value, UnknownAgency)
