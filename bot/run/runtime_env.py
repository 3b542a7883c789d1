"""What every process of the bot shares: the API token and the environment the children get.

The web app, the action server and the process supervisor (:mod:`bot.run.services`) all read these;
keeping them here means neither the web app nor the actions import the supervisor.
"""

from __future__ import annotations

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


# numpy's BLAS otherwise starts a thread per core for every small product (a query against the index):
# under load those threads spin and take the cores the other processes need. One thread each; the
# cores serve concurrent conversations instead (py-spy: index scoring fell from 16 % of Rasa's time).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(settings: Settings) -> Dict[str, str]:
    """The environment every child gets: the same settings, offline model hub, quiet TF.

    Also the variables ``endpoints.yml`` is expanded with, so the web app reads Rasa's tracker
    store where Rasa writes it.

    Args:
        settings: the settings the children should share.

    Returns:
        ``os.environ`` plus the bot's variables.
    """
    env = dict(os.environ)
    env.update(
        {
            "AUSKUNFT_HOME": str(settings.home),
            "AUSKUNFT_KB_DIR": str(settings.kb_dir),
            "AUSKUNFT_ACTION_URL": f"http://{settings.internal_host}:{settings.action_port}/webhook",
            "AUSKUNFT_TRACKER_DB": str(settings.home / "trackers.sqlite3"),
            "AUSKUNFT_API_TOKEN": api_token(settings),
            # endpoints.yml sends it to the action server; empty = not checked (Rasa needs the variable set)
            "AUSKUNFT_INTERNAL_TOKEN": settings.internal_token.get_secret_value() if settings.internal_token else "",
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
    return env
