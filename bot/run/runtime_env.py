"""What every process of the bot shares: the API token, the keys derived from it and the children's environment.

The web app, the action server and the process supervisor (:mod:`bot.run.services`) all read these;
keeping them here means neither the web app nor the actions import the supervisor.

``api_token`` is the legacy token with every scope of the API. The children do not get it: the action server
gets a create-only token (``actions_api_token``, by default derived from the legacy token, which the web
service accepts with the scopes ``tickets:create`` and ``feedback:create`` only), Rasa the key the web service
signs query vectors with (``vector_key``, also derived), and only the web service the legacy token and the
mail and helpdesk secrets (:func:`service_secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Dict

from bot.config.settings import Settings


def api_token(settings: Settings) -> str:
    """The configured API token, or one generated once and kept (mode 600) under home.

    Args:
        settings: the settings (``api_token`` and ``home`` are read).

    Returns:
        The bearer token between the action server and the ticket API.
    """
    if settings.api_token is not None:
        return settings.api_token.get_secret_value()
    path = settings.home / "api-token"
    if not path.is_file():
        settings.home.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def derived_key(secret: str, purpose: str) -> str:
    """A key for one purpose derived from a secret (HMAC-SHA-256; the secret cannot be recovered from it)."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


ACTIONS_PURPOSE = "auskunft:actions-api-token"
VECTORS_PURPOSE = "auskunft:query-vector-key"
DERIVED_PREFIX = "akd_"


def derived_actions_token(legacy: str) -> str:
    """The action server's create-only token derived from the legacy token (the web service derives it too)."""
    return DERIVED_PREFIX + derived_key(legacy, ACTIONS_PURPOSE)


def actions_token(settings: Settings) -> str:
    """The token the action server sends to the ticket and feedback API.

    ``actions_api_token`` when set (a scoped token made with ``auskunft token create``); otherwise one derived
    from the legacy token, which the web service accepts with the scopes ``tickets:create`` and
    ``feedback:create`` only.
    """
    if settings.actions_api_token is not None:
        return settings.actions_api_token.get_secret_value()
    return derived_actions_token(api_token(settings))


def vector_key(settings: Settings) -> str:
    """The key the web service signs query vectors with and Rasa checks them with (``vector_key`` or derived)."""
    if settings.vector_key is not None:
        return settings.vector_key.get_secret_value()
    return derived_key(api_token(settings), VECTORS_PURPOSE)


SECRET_VARIABLES = ("AUSKUNFT_API_TOKEN", "AUSKUNFT_ACTIONS_API_TOKEN", "AUSKUNFT_VECTOR_KEY",
                    "AUSKUNFT_SMTP_PASSWORD", "AUSKUNFT_ZAMMAD_TOKEN", "AUSKUNFT_WEBHOOK_SECRET",
                    "AUSKUNFT_OIDC_CLIENT_SECRET")
"""Secrets no child inherits from the supervisor's environment; :func:`service_secrets` hands out each one."""
WEB_SECRETS = ("AUSKUNFT_SMTP_PASSWORD", "AUSKUNFT_ZAMMAD_TOKEN", "AUSKUNFT_WEBHOOK_SECRET",
               "AUSKUNFT_OIDC_CLIENT_SECRET")


def service_secrets(settings: Settings, service: str) -> Dict[str, str]:
    """The secrets one child needs, on top of :func:`child_env`.

    Args:
        settings: the supervisor's settings.
        service: ``web``, ``worker``, ``actions``, ``rasa`` (or ``rasa-<n>``); any other (the kb watcher, build
            steps) gets none.

    Returns:
        web: the legacy token, the query-vector key and the mail, helpdesk and sign-in secrets of the supervisor's
        environment; worker: those last secrets only; actions: its create-only token; rasa: the query-vector key.
    """
    passed = {name: os.environ[name] for name in WEB_SECRETS if os.environ.get(name)}
    if service == "web":
        return {**passed, "AUSKUNFT_API_TOKEN": api_token(settings), "AUSKUNFT_VECTOR_KEY": vector_key(settings)}
    if service == "worker":  # delivers tickets and notifications like the web service, serves no API
        return passed
    if service == "actions":
        return {"AUSKUNFT_ACTIONS_API_TOKEN": actions_token(settings)}
    if service == "rasa" or service.startswith("rasa-"):
        return {"AUSKUNFT_VECTOR_KEY": vector_key(settings)}
    return {}


ENDPOINT_DEFAULTS = {"AUSKUNFT_PG_SSLMODE": "", "AUSKUNFT_REDIS_TLS": "", "AUSKUNFT_REDIS_CA_CERTS": ""}
"""Optional variables of ``endpoints.scale-out.yml``: Rasa refuses an unset one, empty means libpq's/Redis' default
(sslmode prefer, no TLS, the system's CAs). ``AUSKUNFT_REDIS_PASSWORD`` comes from the settings."""


# numpy's BLAS otherwise starts a thread per core for every small product (a query against the index):
# under load those threads spin and take the cores the other processes need. One thread each; the
# cores serve concurrent conversations instead (py-spy: index scoring fell from 16 % of Rasa's time).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(settings: Settings) -> Dict[str, str]:
    """The environment every child gets: the same settings, offline model hub, quiet TF, no API secrets.

    Also the variables ``endpoints.yml`` is expanded with, so the web app reads Rasa's tracker
    store where Rasa writes it. The variables in :data:`SECRET_VARIABLES` are removed; each service gets
    the ones it needs from :func:`service_secrets`.

    Args:
        settings: the settings the children should share.

    Returns:
        ``os.environ`` without the secrets, plus the bot's variables.
    """
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    env.update(
        {
            "AUSKUNFT_HOME": str(settings.home),
            "AUSKUNFT_KB_DIR": str(settings.kb_dir),
            "AUSKUNFT_ACTION_URL": f"http://{settings.internal_host}:{settings.action_port}/webhook",
            "AUSKUNFT_TRACKER_DB": str(settings.home / "trackers.sqlite3"),
            # endpoints.yml sends it to the action server; empty = not checked (Rasa needs the variable set)
            "AUSKUNFT_INTERNAL_TOKEN": settings.internal_token.get_secret_value() if settings.internal_token else "",
            # Rasa's lock store (endpoints.scale-out.yml) and the limit counters; empty = no password
            "AUSKUNFT_REDIS_PASSWORD": settings.redis_password.get_secret_value() if settings.redis_password else "",
            "AUSKUNFT_SPACY_MODEL": str(settings.spacy_model_dir),
            "HF_HUB_OFFLINE": "1",
            "RASA_TELEMETRY_ENABLED": "false",  # no third-party requests (Rasa reports to Segment/Sentry)
            "TOKENIZERS_PARALLELISM": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in BLAS_THREAD_VARIABLES:  # an operator's own choice is kept
        env.setdefault(name, "1")
    for name, value in ENDPOINT_DEFAULTS.items():
        env.setdefault(name, value)
    return env
