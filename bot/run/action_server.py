"""The action server (``python -m bot.run.lean_imports bot.run.action_server --actions actions --port N``).

rasa_sdk's own launcher has no way to check callers, and its ``/webhook`` runs ``action_create_ticket``
with the real API token for whatever tracker it is sent. This builds rasa_sdk's Sanic app and adds a
request middleware: with ``AUSKUNFT_INTERNAL_TOKEN`` set, every route but ``/health`` (the readiness
probe) answers 401 unless the call carries the secret (Rasa sends it, see ``endpoints.yml``).
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import List, Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config.settings import get_settings
from bot.run.internal_auth import REFUSED, expected_token, is_allowed

OPEN_PATHS = frozenset({"/health"})


def build_app(actions: str, token: Optional[str]) -> Sanic:
    """rasa_sdk's app for the ``actions`` package, refusing calls without ``token`` (when it is set).

    Args:
        actions: the package with the custom actions.
        token: the internal secret; None checks nothing (single host on loopback).

    Returns:
        The Sanic app, not yet running.
    """
    app = create_app(actions, cors_origins=None)

    @app.middleware("request")
    async def check_internal_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS or is_allowed(token, request.headers):
            return None
        return response.json({"error": REFUSED}, status=401)

    return app


def main(argv: Optional[List[str]] = None) -> None:
    """Run the action server on ``SANIC_HOST`` (default 127.0.0.1, never every interface) and ``--port``."""
    parser = argparse.ArgumentParser(prog="bot.run.action_server")
    parser.add_argument("--actions", default="actions", help="package with the custom actions")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from bot.privacy.log_filter import install_redacting_filter

    install_redacting_filter()
    app = build_app(args.actions, expected_token(get_settings()))
    app.run(os.environ.get("SANIC_HOST", "127.0.0.1"), args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
