"""The one error an import raises on purpose: the input cannot be imported, and nothing was written."""

from __future__ import annotations

from bot.errors import AuskunftError


class FaqImportError(AuskunftError, ValueError):
    """The source cannot be imported (unreadable, too large, no questions found, a column missing, ...).

    The message names the problem and what to do next; the kb directory is left as it was.
    """
