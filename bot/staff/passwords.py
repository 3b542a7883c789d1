"""Password hashing with Argon2id (argon2-cffi); hashes of the older scrypt scheme are still verified.

New hashes are Argon2id in the PHC format ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`` with the OWASP
parameters (19 MiB, two passes, one lane). Accounts from before keep a scrypt hash
``scrypt$<n>$<r>$<p>$<salt b64>$<key b64>`` until their next login: :func:`verify_password` checks both, and
:func:`needs_rehash` says yes for every scrypt hash and for Argon2 hashes of other parameters, so
:func:`bot.staff.auth.authenticate` stores a fresh hash after the password was right.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Optional, Tuple

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.errors import AuskunftError

OWASP_COST = (2, 19 * 1024, 1)
"""Argon2id passes, memory in KiB and lanes: OWASP's first choice (m=19 MiB, t=2, p=1)."""
TIME_COST, MEMORY_KIB, PARALLELISM = OWASP_COST
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 12
MAX_LENGTH = 1024
ARGON2_PREFIX = "$argon2id$"
# Upper bounds on parameters read from a stored Argon2 hash, so a crafted hash cannot exhaust memory or time.
_MAX_MEMORY_KIB, _MAX_TIME, _MAX_LANES = 256 * 1024, 16, 16

# The scrypt scheme of older accounts (verified, never written any more).
N, R, P = 2**14, 8, 1
SCHEME = "scrypt"
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


class PasswordTooShort(AuskunftError, ValueError):
    """The password is shorter than :data:`MIN_LENGTH` characters."""


def _hasher() -> PasswordHasher:
    """Today's Argon2id parameters (read at each call, so tests may lower the cost)."""
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=KEY_BYTES,
                          salt_len=SALT_BYTES, type=Type.ID)


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short (or absurdly long).

    Raises:
        PasswordTooShort: fewer than :data:`MIN_LENGTH` characters.
        ValueError: more than :data:`MAX_LENGTH` characters.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordTooShort(f"the password needs at least {MIN_LENGTH} characters (it has {len(password)})")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """Hash a new password with Argon2id and a fresh random salt.

    Raises:
        PasswordTooShort: the password has fewer than 12 characters.
    """
    check_password_policy(password)
    return _hasher().hash(password)


def _argon2_ok(encoded: str) -> bool:
    """Whether ``encoded`` is a well-formed Argon2id hash with bounded parameters."""
    if not isinstance(encoded, str) or not encoded.startswith(ARGON2_PREFIX):
        return False
    try:
        params = extract_parameters(encoded)
    except (InvalidHashError, ValueError):
        return False
    return (params.type is Type.ID and 8 * params.parallelism <= params.memory_cost <= _MAX_MEMORY_KIB
            and 1 <= params.time_cost <= _MAX_TIME and 1 <= params.parallelism <= _MAX_LANES)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * 1024 * 1024)


def _parse_scrypt(encoded: str) -> Optional[Tuple[int, int, int, bytes, bytes]]:
    parts = encoded.split("$") if isinstance(encoded, str) else []
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    if not salt or len(key) != KEY_BYTES:
        return None
    return n, r, p, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the stored hash, Argon2id or scrypt (False for a malformed hash)."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    if _argon2_ok(encoded):
        try:
            return bool(_hasher().verify(encoded, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    parsed = _parse_scrypt(encoded)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = _derive(password, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, key)


def needs_rehash(encoded: str) -> bool:
    """Whether a stored hash should be replaced: scrypt, malformed, or Argon2 with other parameters than today's."""
    if not _argon2_ok(encoded):
        return True
    return _hasher().check_needs_rehash(encoded)
