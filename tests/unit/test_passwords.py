"""Password hashes: Argon2id with the OWASP cost for new ones, scrypt hashes of older accounts verified and
replaced at the next login, crafted hashes refused without exhausting memory."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.staff import auth, passwords
from bot.tickets.departments import Departments

PASSWORD = "ein-langes-passwort-123"


def scrypt_hash(password: str, n: int = 2**14) -> str:
    """A hash as accounts created before Argon2 have it."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32, maxmem=256 * 1024 * 1024)
    return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def test_new_hashes_are_argon2id_with_the_owasp_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    assert passwords.OWASP_COST == (2, 19 * 1024, 1)
    for name, value in zip(("TIME_COST", "MEMORY_KIB", "PARALLELISM"), passwords.OWASP_COST, strict=True):
        monkeypatch.setattr(passwords, name, value)  # the tests' conftest makes hashing cheap; here the real cost
    encoded = passwords.hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PASSWORD not in encoded
    assert passwords.verify_password(PASSWORD, encoded) and not passwords.verify_password(PASSWORD + "x", encoded)
    assert passwords.hash_password(PASSWORD) != encoded  # fresh salt
    assert not passwords.needs_rehash(encoded)
    with pytest.raises(passwords.PasswordTooShort, match="at least 12 characters"):
        passwords.hash_password("kurz")


def test_scrypt_hashes_of_older_accounts_still_verify_and_want_a_rehash() -> None:
    old = scrypt_hash(PASSWORD)
    assert passwords.verify_password(PASSWORD, old) and not passwords.verify_password(PASSWORD + "x", old)
    assert passwords.needs_rehash(old)
    assert passwords.needs_rehash(passwords.hash_password(PASSWORD)) is False


def test_a_change_of_the_cost_asks_for_a_rehash(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = passwords.hash_password(PASSWORD)
    monkeypatch.setattr(passwords, "TIME_COST", passwords.TIME_COST + 1)
    assert passwords.needs_rehash(encoded) and passwords.verify_password(PASSWORD, encoded)


def test_malformed_or_crafted_hashes_are_refused_at_once() -> None:
    good = passwords.hash_password(PASSWORD)
    salt_and_hash = good.split("$", 4)[4]
    started = time.perf_counter()
    for broken in ("", "scrypt$16384$8$1$AAAA", "bcrypt$x", "scrypt$3$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$??",
                   "$argon2id$v=19$m=4194304,t=1,p=1$" + salt_and_hash,  # 4 GiB: would exhaust memory
                   "$argon2id$v=19$m=256,t=1000,p=1$" + salt_and_hash,  # would take minutes
                   good.replace("$argon2id$", "$argon2i$"), "$argon2id$v=19$m=256,t=1,p=1$kaputt",
                   "scrypt$1048576$32$16$" + scrypt_hash(PASSWORD).split("$", 4)[4]):
        assert not passwords.verify_password(PASSWORD, broken) and passwords.needs_rehash(broken), broken
    assert time.perf_counter() - started < 5
    assert not passwords.verify_password("x" * (passwords.MAX_LENGTH + 1), good)


def test_login_replaces_an_old_scrypt_hash_by_argon2id(session: Session) -> None:
    known = Departments.load(Path(__file__).resolve().parents[2] / "departments.yml")
    agent = auth.create_agent(session, "weber", "Frau Weber", PASSWORD, [], is_manager=True, known=known)
    agent.password_hash = scrypt_hash(PASSWORD)
    session.commit()
    assert auth.authenticate(session, "weber", "falsches-passwort") is None
    assert agent.password_hash.startswith("scrypt$")  # a wrong password changes nothing
    assert auth.authenticate(session, "weber", PASSWORD) is not None
    session.expire_all()
    stored = auth.get_agent(session, "weber")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(PASSWORD, stored.password_hash) and not passwords.needs_rehash(
        stored.password_hash)
    assert auth.authenticate(session, "weber", PASSWORD) is not None  # and logs in with it
