"""Rasa's Redis lock store with its password and TLS settings taken from environment variables.

Rasa substitutes ``${VAR}`` in ``endpoints.yml`` with the variable's text and refuses an unset one, so every setting
must always be set, and an optional one is an empty string when not wanted. Rasa's own ``type: redis`` passes the
values on as they are: ``use_ssl: "false"`` would switch TLS *on* (a non-empty string is true) and an empty
``ssl_ca_certs`` makes every TLS connection fail. :class:`EnvRedisLockStore` reads them as meant: an empty value is
"not set" (no password, no client certificate, the system's CAs), ``use_ssl`` is a yes/no word, anything else is an
error naming the setting. It also checks the connection once when Rasa starts, so a wrong password or a TLS mistake
stops Rasa with a message instead of failing every conversation later.

``endpoints.scale-out.yml``::

    lock_store:
      type: bot.conversations.lock_store.EnvRedisLockStore
      url: ${AUSKUNFT_REDIS_HOST}
      password: ${AUSKUNFT_REDIS_PASSWORD}
      use_ssl: ${AUSKUNFT_REDIS_TLS}
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Optional

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.errors import AuskunftError

logger = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", ""})
OPTIONAL_TEXT = ("username", "password", "ssl_certfile", "ssl_keyfile", "ssl_ca_certs", "key_prefix")


class LockStoreConfigError(AuskunftError, ValueError):
    """The lock store's settings are invalid, or Redis refused them (password, TLS)."""


def parse_flag(value: Any, name: str) -> bool:
    """``value`` (a YAML boolean or the text of an environment variable) as a boolean; empty means false.

    Raises:
        LockStoreConfigError: ``value`` is no yes/no word.
    """
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise LockStoreConfigError(f"The lock store setting {name}={value!r} is not a yes/no value "
                               "(true/false, yes/no, on/off, 1/0; empty = false).")


def redis_settings(url: Optional[str], kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """The keyword arguments of :class:`rasa.core.lock_store.RedisLockStore` for an endpoint's settings.

    Empty optional texts become ``None``, ``use_ssl`` a boolean, ``port`` and ``db`` integers.

    Raises:
        LockStoreConfigError: ``use_ssl`` is no yes/no word, or ``port``/``db`` no number.
    """
    settings = dict(kwargs)
    for name in OPTIONAL_TEXT:
        if name in settings:
            text = "" if settings[name] is None else str(settings[name])
            settings[name] = text or None
    settings["use_ssl"] = parse_flag(settings.get("use_ssl"), "use_ssl (AUSKUNFT_REDIS_TLS)")
    for name, default in (("port", 6379), ("db", 1)):
        try:
            settings[name] = int(settings.get(name) or default)
        except (TypeError, ValueError) as err:
            raise LockStoreConfigError(f"The lock store setting {name}={settings[name]!r} is not a number.") from err
    if settings.get("socket_timeout") in ("", None):
        settings.pop("socket_timeout", None)  # Rasa's default
    return {"host": url or "localhost", **settings}


class EnvRedisLockStore(RedisLockStore):
    """Rasa's :class:`~rasa.core.lock_store.RedisLockStore`, configured from an endpoint with environment texts.

    Args:
        endpoint_config: the ``lock_store`` section (Rasa passes it to a lock store given by module path).
        check: ping Redis once now: raise on a refused password or TLS setting, warn if it is not reachable.

    Raises:
        LockStoreConfigError: a setting is invalid, or Redis refused the password or the TLS handshake.
    """

    def __init__(self, endpoint_config: EndpointConfig, check: bool = True) -> None:
        """Build the Redis client from ``endpoint_config`` and check it (see the class)."""
        settings = redis_settings(endpoint_config.url, endpoint_config.kwargs)
        super().__init__(**settings)
        if check:
            self._check(settings)

    def _check(self, settings: Mapping[str, Any]) -> None:
        import redis

        where = f"{settings['host']}:{settings['port']} db {settings['db']}"
        try:
            self.red.ping()
        except redis.AuthenticationError as err:  # before ConnectionError: it is one
            raise LockStoreConfigError(
                f"Redis ({where}) refused the lock store's password: {err} Set AUSKUNFT_REDIS_PASSWORD to the "
                "server's requirepass (empty = none).") from err
        except (redis.ConnectionError, redis.TimeoutError) as err:
            if is_tls_failure(err):
                raise LockStoreConfigError(
                    f"TLS to Redis ({where}) failed: {err} Check AUSKUNFT_REDIS_TLS (on only if the server speaks "
                    "TLS on that port) and AUSKUNFT_REDIS_CA_CERTS (the CA that signed its certificate).") from err
            logger.warning("Redis for the lock store (%s) is not reachable yet (%s); conversations wait for it. "
                           "A server that expects TLS also resets plain connections: AUSKUNFT_REDIS_TLS.", where, err)
        except redis.ResponseError as err:
            raise LockStoreConfigError(f"Redis ({where}) refused the lock store: {err}") from err


def is_tls_failure(err: BaseException) -> bool:
    """True if ``err`` (or the error it was raised from) is a failed TLS handshake or certificate check."""
    import ssl

    cause = err.__cause__ or err.__context__
    return isinstance(err, ssl.SSLError) or isinstance(cause, ssl.SSLError) or "SSL" in str(err) \
        or "handshake" in str(cause)
