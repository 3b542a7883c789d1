"""Password hashing with scrypt (standard library only).

Hashes are stored as ``scrypt$<n>$<r>$<p>$<salt b64>$<key b64>`` so the cost can be raised
later: :func:`needs_rehash` tells when a stored hash uses other parameters than today's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Optional, Tuple

from bot.errors import AuskunftError

N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 12
MAX_LENGTH = 1024
SCHEME = "scrypt"
# Upper bounds on parameters read from a stored hash, so a crafted hash cannot exhaust memory.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


class PasswordTooShort(AuskunftError, ValueError):
    """The password is shorter than :data:`MIN_LENGTH` characters."""


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * 1024 * 1024)


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
    """Hash a new password with a fresh random salt.

    Raises:
        PasswordTooShort: the password has fewer than 12 characters.
    """
    check_password_policy(password)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P)
    return "$".join((SCHEME, str(N), str(R), str(P), base64.b64encode(salt).decode("ascii"),
                     base64.b64encode(key).decode("ascii")))


def _parse(encoded: str) -> Optional[Tuple[int, int, int, bytes, bytes]]:
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
    """Whether ``password`` matches the stored hash (constant-time compare; False for a malformed hash)."""
    parsed = _parse(encoded)
    if parsed is None or len(password) > MAX_LENGTH:
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = _derive(password, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, key)


def needs_rehash(encoded: str) -> bool:
    """Whether a stored hash is malformed or uses other parameters than :func:`hash_password` does now."""
    parsed = _parse(encoded)
    if parsed is None:
        return True
    n, r, p, salt, _ = parsed
    return (n, r, p, len(salt)) != (N, R, P, SALT_BYTES)
