"""endpoints.scale-out.yml with secrets, for real: a password-protected (and a TLS) Redis, PostgreSQL's sslmode.

Each test starts its own ``redis-server`` on a free port (no persistence) and loads the endpoints file through
Rasa's own loader, as ``rasa run`` does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, List
from urllib.parse import quote

import pytest

from bot.run.runtime_env import ENDPOINT_DEFAULTS
from tests.conftest import ROOT
from tests.helpers.postgres import drop_postgres, postgres_url

pytestmark = pytest.mark.slow

ENDPOINTS = str(ROOT / "endpoints.scale-out.yml")
PASSWORD = "s3cr3t pass#word"  # a space and a '#': taken as text, not YAML


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start ``redis-server`` with extra arguments on a free port; returns the port. Stopped after the test."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    started: List["subprocess.Popen[bytes]"] = []

    def start(*args: str, tls: bool = False) -> int:
        port = free_port()
        listen = ["--port", "0", "--tls-port", str(port)] if tls else ["--port", str(port)]
        process = subprocess.Popen(["redis-server", *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                    "no", "--dir", str(tmp_path), *args],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        started.append(process)
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, "redis-server exited at start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen within 10 s"
                time.sleep(0.05)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def scale_out_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set every variable of endpoints.scale-out.yml as the supervisor does (its defaults), then ``overrides``."""

    def setenv(**overrides: str) -> None:
        values = {"AUSKUNFT_ACTION_URL": "http://127.0.0.1:5055/webhook", "AUSKUNFT_INTERNAL_TOKEN": "",
                  "AUSKUNFT_PG_HOST": "127.0.0.1", "AUSKUNFT_PG_PORT": "5432", "AUSKUNFT_PG_DB": "postgres",
                  "AUSKUNFT_PG_USER": "postgres", "AUSKUNFT_PG_PASSWORD": "", "AUSKUNFT_REDIS_HOST": "127.0.0.1",
                  "AUSKUNFT_REDIS_PORT": "6379", "AUSKUNFT_REDIS_PASSWORD": "", **ENDPOINT_DEFAULTS, **overrides}
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return setenv


def lock_store():  # type: ignore[no-untyped-def]
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import AvailableEndpoints

    return LockStore.create(AvailableEndpoints.read_endpoints(ENDPOINTS).lock_store)


def hold_and_release(locks) -> int:  # type: ignore[no-untyped-def]
    """Take the lock of a new conversation through the lock store's API, read it back from Redis, release it."""
    sender = f"citizen-{uuid.uuid4().hex[:6]}"

    async def hold() -> int:
        async with locks.lock(sender):
            held = locks.get_lock(sender)
            assert held is not None
            return len(held.tickets)

    tickets = asyncio.run(hold())
    assert locks.get_lock(sender) is None  # released and deleted
    return tickets


def test_lock_store_with_the_right_password_takes_and_releases_a_lock(redis_server: Callable[..., int],
                                                                      scale_out_env: Callable[..., None]) -> None:
    from rasa.core.lock_store import RedisLockStore

    port = redis_server("--requirepass", PASSWORD)
    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_PASSWORD=PASSWORD)
    locks = lock_store()
    assert isinstance(locks, RedisLockStore)  # Rasa's, so it allows several Sanic workers
    assert hold_and_release(locks) == 1
    assert locks.red.connection_pool.connection_kwargs["password"] == PASSWORD


@pytest.mark.parametrize("password", ["wrong", ""], ids=["wrong-password", "no-password"])
def test_lock_store_with_a_wrong_or_no_password_stops_rasa(redis_server: Callable[..., int],
                                                          scale_out_env: Callable[..., None], password: str) -> None:
    from rasa.core.lock_store import LockError
    from rasa.core.utils import AvailableEndpoints

    from bot.conversations.lock_store import EnvRedisLockStore, LockStoreConfigError

    port = redis_server("--requirepass", PASSWORD)
    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_PASSWORD=password)
    with pytest.raises(LockStoreConfigError, match="AUSKUNFT_REDIS_PASSWORD") as error:
        lock_store()
    assert PASSWORD not in str(error.value) and (not password or password not in str(error.value))
    unchecked = EnvRedisLockStore(AvailableEndpoints.read_endpoints(ENDPOINTS).lock_store, check=False)
    with pytest.raises(LockError, match="password|Authentication"):  # a lock, too, fails loudly: never taken
        hold_and_release(unchecked)


def test_an_empty_password_sends_no_auth(redis_server: Callable[..., int], scale_out_env: Callable[..., None]) -> None:
    import redis

    port = redis_server()  # no requirepass: an AUTH with any password, even an empty one, is refused
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port, password="x").ping()
    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_PASSWORD="")
    locks = lock_store()
    assert locks.red.connection_pool.connection_kwargs["password"] is None
    assert hold_and_release(locks) == 1


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key next to it (``key.pem``)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    return tmp_path / "cert.pem"


def test_lock_store_and_limits_over_tls(redis_server: Callable[..., int], scale_out_env: Callable[..., None],
                                        certificate: Path) -> None:
    from bot.conversations.lock_store import LockStoreConfigError
    from bot.limits.redis_store import RedisLimiter

    port = redis_server("--tls-cert-file", str(certificate), "--tls-key-file", str(certificate.with_name("key.pem")),
                        "--tls-auth-clients", "no", "--requirepass", PASSWORD, tls=True)
    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_PASSWORD=PASSWORD, AUSKUNFT_REDIS_TLS="true",
                  AUSKUNFT_REDIS_CA_CERTS=str(certificate))
    assert hold_and_release(lock_store()) == 1

    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_PASSWORD=PASSWORD, AUSKUNFT_REDIS_TLS="true",
                  AUSKUNFT_REDIS_CA_CERTS="")  # the system's CAs do not know this certificate
    with pytest.raises(LockStoreConfigError, match="AUSKUNFT_REDIS_CA_CERTS"):
        lock_store()

    # The web service's limit counters: rediss:// with the CA in the URL, the password from AUSKUNFT_REDIS_PASSWORD
    limiter = RedisLimiter(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={certificate}", password=PASSWORD,
                           prefix=f"test:{uuid.uuid4().hex[:6]}:")
    assert limiter.hit("citizen", limit=1, window=60).allowed
    assert not limiter.hit("citizen", limit=1, window=60).allowed


@pytest.mark.parametrize("flag", ["false", "FALSE", "no", "off", "0", ""])
def test_tls_off_words_connect_in_plain_text(redis_server: Callable[..., int], scale_out_env: Callable[..., None],
                                             flag: str) -> None:
    """Rasa's own ``type: redis`` would switch TLS on for ``use_ssl: "false"`` (a non-empty string)."""
    port = redis_server()
    scale_out_env(AUSKUNFT_REDIS_PORT=str(port), AUSKUNFT_REDIS_TLS=flag)
    assert hold_and_release(lock_store()) == 1


def test_a_tls_word_that_is_not_yes_or_no_is_refused(scale_out_env: Callable[..., None]) -> None:
    from bot.conversations.lock_store import LockStoreConfigError

    scale_out_env(AUSKUNFT_REDIS_TLS="required")
    with pytest.raises(LockStoreConfigError, match="AUSKUNFT_REDIS_TLS"):
        lock_store()


def test_web_service_limits_take_the_shared_password(redis_server: Callable[..., int]) -> None:
    from pydantic import SecretStr

    from bot.config.settings import Settings
    from bot.limits.base import LimitsUnavailable
    from bot.limits.redis_store import RedisLimiter
    from bot.limits.stores import limiter_for

    port = redis_server("--requirepass", PASSWORD)
    settings = Settings(redis_url=f"redis://127.0.0.1:{port}/0", redis_password=SecretStr(PASSWORD))
    limiter = limiter_for(settings, engine=None)  # type: ignore[arg-type]  # Redis: the engine is not used
    assert isinstance(limiter, RedisLimiter) and limiter.hit(f"t-{uuid.uuid4().hex}", 5, 60).allowed
    with pytest.raises(LimitsUnavailable):  # refused with 503, never counted as allowed
        RedisLimiter(f"redis://127.0.0.1:{port}/0", password="wrong").hit("citizen", 5, 60)
    in_url = RedisLimiter(f"redis://:{quote(PASSWORD)}@127.0.0.1:{port}/0", password="wrong")
    assert in_url.hit(f"t-{uuid.uuid4().hex}", 5, 60).allowed  # a password in the URL wins


@pytest.mark.parametrize("sslmode", ["disable", ""])
def test_sslmode_reaches_the_tracker_store_and_the_eraser(scale_out_env: Callable[..., None], sslmode: str) -> None:
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    from bot.conversations.erase import TrackerEraser

    url = postgres_url()
    try:
        scale_out_env(AUSKUNFT_PG_DB=url.rsplit("/", 1)[1], AUSKUNFT_PG_SSLMODE=sslmode)
        store = TrackerStore.create(AvailableEndpoints.read_endpoints(ENDPOINTS).tracker_store,
                                    domain=Domain.load(str(ROOT / "domain.yml")))
        expected = {"sslmode": sslmode} if sslmode else {}  # empty: libpq's default (prefer)
        assert dict(store.engine.url.query) == expected
        assert asyncio.run(store.retrieve("nobody")) is None  # connected, table created
        store.engine.dispose()
        eraser = TrackerEraser.from_endpoints(Path(ENDPOINTS), dict(os.environ))
        assert eraser.engine is not None and dict(eraser.engine.url.query) == expected
        assert eraser.erase_inactive(time.time()) == 0
        eraser.close()
    finally:
        drop_postgres(url)


def test_sslmode_require_is_enforced(scale_out_env: Callable[..., None]) -> None:
    """The test server speaks no TLS: with ``require`` libpq refuses to connect instead of falling back."""
    import sqlalchemy as sa

    from bot.conversations.erase import TrackerEraser

    scale_out_env(AUSKUNFT_PG_SSLMODE="require")
    eraser = TrackerEraser.from_endpoints(Path(ENDPOINTS), dict(os.environ))
    with pytest.raises(sa.exc.OperationalError, match="SSL"):
        eraser.erase_inactive(time.time())
    eraser.close()
