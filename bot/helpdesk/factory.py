"""Pick the connector the settings ask for, and refuse to start with an incomplete configuration."""

from __future__ import annotations

from typing import Optional

import httpx
from pydantic import SecretStr

from bot.config.settings import Settings
from bot.helpdesk.base import Connector
from bot.helpdesk.builtin import InboxConnector
from bot.helpdesk.webhook import WebhookConnector
from bot.helpdesk.zammad import DEFAULT_CUSTOMER, ZammadConnector

MIN_SECRET_CHARS = 16


def _require(value: str, setting: str, helpdesk: str) -> str:
    if not value.strip():
        raise ValueError(f"AUSKUNFT_{setting} is required when AUSKUNFT_HELPDESK={helpdesk}")
    return value.strip()


def _url(value: str, setting: str, helpdesk: str) -> str:
    url = _require(value, setting, helpdesk)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"AUSKUNFT_{setting} must be an http(s) URL, e.g. https://helpdesk.musterstadt.de")
    return url


def _secret(value: Optional[SecretStr]) -> str:
    return value.get_secret_value() if value is not None else ""


def connector_from_settings(settings: Settings, client: Optional[httpx.Client] = None,
                            timeout: float = 10.0) -> Connector:
    """The connector for ``AUSKUNFT_HELPDESK`` (``inbox``, ``zammad`` or ``webhook``).

    Args:
        settings: the settings.
        client: an ``httpx.Client`` for the connector (default: its own).
        timeout: seconds per request.

    Raises:
        ValueError: a setting the chosen helpdesk needs is missing or malformed (message names the variable).
    """
    helpdesk = settings.helpdesk
    if helpdesk == "inbox":
        return InboxConnector()
    if helpdesk == "zammad":
        url = _url(settings.zammad_url, "ZAMMAD_URL", helpdesk)
        token = _require(_secret(settings.zammad_token), "ZAMMAD_TOKEN", helpdesk)
        group = _require(settings.zammad_group, "ZAMMAD_GROUP", helpdesk)
        customer = str(getattr(settings, "zammad_customer", "") or DEFAULT_CUSTOMER)
        return ZammadConnector(url, token, group, client=client, timeout=timeout, fallback_customer=customer)
    if helpdesk == "webhook":
        url = _url(settings.webhook_url, "WEBHOOK_URL", helpdesk)
        secret = _require(_secret(settings.webhook_secret), "WEBHOOK_SECRET", helpdesk)
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"AUSKUNFT_WEBHOOK_SECRET must be at least {MIN_SECRET_CHARS} characters long")
        return WebhookConnector(url, secret, client=client, timeout=timeout)
    raise ValueError(f"AUSKUNFT_HELPDESK={helpdesk!r} is not one of inbox, zammad, webhook")
