"""The lock store's settings as endpoints.scale-out.yml gives them (texts of environment variables), without Redis."""

from __future__ import annotations

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.conversations.lock_store import EnvRedisLockStore, LockStoreConfigError, parse_flag, redis_settings


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("YES", True), (" on ", True), ("1", True),
                                                 (True, True), ("false", False), ("No", False), ("off", False),
                                                 ("0", False), ("", False), (None, False), (False, False)])
def test_flags_are_yes_or_no_words(value: object, expected: bool) -> None:
    assert parse_flag(value, "use_ssl") is expected


@pytest.mark.parametrize("value", ["required", "tls", "2", "nein"])
def test_other_words_are_refused_with_the_setting_named(value: str) -> None:
    with pytest.raises(LockStoreConfigError, match=f"use_ssl={value!r}"):
        parse_flag(value, "use_ssl")


def test_empty_texts_are_not_set_and_numbers_are_numbers() -> None:
    settings = redis_settings("10.0.0.2", {"port": "6380", "db": 1, "password": "", "use_ssl": "false",
                                           "ssl_ca_certs": "", "key_prefix": ""})
    assert settings == {"host": "10.0.0.2", "port": 6380, "db": 1, "password": None, "use_ssl": False,
                        "ssl_ca_certs": None, "key_prefix": None}
    assert redis_settings(None, {"password": "p w#"})["password"] == "p w#"
    with pytest.raises(LockStoreConfigError, match="port"):
        redis_settings("h", {"port": "six"})


def test_the_client_gets_the_values_as_meant() -> None:
    import redis

    store = EnvRedisLockStore(EndpointConfig(url="127.0.0.1", port="1", db="1", password="", use_ssl="false",
                                             ssl_ca_certs=""), check=False)
    kwargs = store.red.connection_pool.connection_kwargs
    assert kwargs["password"] is None and store.red.connection_pool.connection_class is redis.Connection
    tls = EnvRedisLockStore(EndpointConfig(url="127.0.0.1", port="1", password="pw", use_ssl="true",
                                           ssl_ca_certs="/etc/ca.pem"), check=False)
    assert tls.red.connection_pool.connection_class is redis.SSLConnection
    assert tls.red.connection_pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
