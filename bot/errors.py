"""The project's error hierarchy: one root class, so callers can catch every error the bot raises on purpose.

Each project error derives from :class:`AuskunftError` and, where callers catch a builtin (``ValueError``,
``LookupError``, ``RuntimeError``), from that builtin too, so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class AuskunftError(Exception):
    """The root of every error the project raises on purpose."""
