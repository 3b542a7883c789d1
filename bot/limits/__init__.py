"""Limits on what citizens can ask of the services without login: chat messages, case lookups, handoffs.

:mod:`bot.limits.base` is the protocol every counter store implements (in-process, SQL, Redis),
:mod:`bot.limits.addresses` turns a request into the address it is counted under, and
:mod:`bot.limits.policy` holds the configured budgets.
"""

from bot.limits.base import Decision, Limiter

__all__ = ["Decision", "Limiter"]
