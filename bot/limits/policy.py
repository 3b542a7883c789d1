"""The citizen API's budgets (from the settings) applied to a :class:`~bot.limits.base.Limiter`.

Keys are pseudonyms of the grouped client address (:mod:`bot.limits.addresses`), the conversation id, or ``*``
for everyone together. A request is counted under all of its keys or, when one of them refuses it, under none (one
round trip to the store: :meth:`~bot.limits.base.Limiter.hit_all`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from bot.config.settings import Settings
from bot.limits.addresses import Network, client_address, group, parse_networks, pseudonym
from bot.limits.base import ALLOWED, Budget, Decision, Limiter, Note
from bot.metrics import count_refusal

LOOKUP_WINDOW = 600.0
POLLS_PER_MESSAGE = 10
"""Reading replies may happen this many times as often as sending (the widget polls every 15 s)."""
ORIGIN_TTL = 3600.0
"""How long the (pseudonymised) address of a conversation's last message is kept for its handoff budget."""


@dataclass(frozen=True)
class Budgets:
    """How many events per window each key may have; 0 means no limit."""

    window: float = 60.0
    chat_per_address: int = 60
    chat_per_conversation: int = 20
    chat_global: int = 3000
    lookups_per_address: int = 10
    handoffs_per_address: int = 5
    handoffs_global: int = 200
    handoff_window: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Budgets":
        """The budgets configured in ``settings`` (``rate_limits`` off: every budget 0)."""
        if not settings.rate_limits:
            return cls(settings.limit_window_s, 0, 0, 0, 0, 0, 0, settings.limit_handoff_window_s)
        return cls(settings.limit_window_s, settings.limit_chat_per_address, settings.limit_chat_per_conversation,
                   settings.limit_chat_global, settings.limit_lookups_per_address,
                   settings.limit_handoffs_per_address, settings.limit_handoffs_global,
                   settings.limit_handoff_window_s)


class CitizenLimits:
    """Decides whether a citizen's request may go ahead.

    Args:
        limiter: where the counters are kept.
        budgets: the budgets.
        secret: the key of the address pseudonyms (the API token: the same in every process of a deployment).
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` is believed.
    """

    def __init__(self, limiter: Limiter, budgets: Budgets, secret: str,
                 trusted_proxies: Optional[List[Network]] = None) -> None:
        self.limiter, self.budgets, self._secret = limiter, budgets, secret
        self._trusted = trusted_proxies or []

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Limiter, secret: str) -> "CitizenLimits":
        """The limits configured in ``settings``."""
        return cls(limiter, Budgets.from_settings(settings), secret, parse_networks(settings.trusted_proxies))

    def address_key(self, peer: Optional[str], forwarded_for: Optional[str]) -> str:
        """The pseudonym a request from ``peer`` is counted under (see :func:`bot.limits.addresses.client_address`)."""
        return pseudonym(group(client_address(peer, forwarded_for, self._trusted)), self._secret)

    def chat(self, address: str, conversation: str) -> Decision:
        """One chat message (or deletion) from ``address`` in ``conversation``; remembers the conversation's address."""
        b = self.budgets
        note = (Note(f"origin:{conversation}", address, max(ORIGIN_TTL, b.handoff_window))
                if b.handoffs_per_address else None)
        return self._all("chat", [Budget(f"chat:c:{conversation}", b.chat_per_conversation, b.window),
                                  Budget(f"chat:a:{address}", b.chat_per_address, b.window),
                                  Budget("chat:*", b.chat_global, b.window)], note)

    def poll(self, address: str) -> Decision:
        """One read of staff replies from ``address``."""
        b = self.budgets
        return self._all("poll", [Budget(f"poll:a:{address}", b.chat_per_address * POLLS_PER_MESSAGE, b.window)])

    def lookup(self, address: str) -> Decision:
        """One case-number lookup (``/fall``) from ``address``."""
        return self._all("lookup", [Budget(f"lookup:a:{address}", self.budgets.lookups_per_address, LOOKUP_WINDOW)])

    def handoff(self, conversation: str) -> Decision:
        """One new ticket for ``conversation``: counted against the address its messages came from.

        A conversation whose messages did not pass through ``/api/chat`` recently (none noted) is counted in the
        global handoff budget only.
        """
        b = self.budgets
        address = self.limiter.recall(f"origin:{conversation}") if b.handoffs_per_address else None
        keys = [Budget(f"handoff:a:{address}", b.handoffs_per_address, b.handoff_window)] if address else []
        return self._all("handoff", keys + [Budget("handoff:*", b.handoffs_global, b.handoff_window)])

    def _all(self, name: str, budgets: List[Budget], note: Optional[Note] = None) -> Decision:
        """Count under every budget that is on (limit > 0); keep ``note`` when counted (even with no budget on).

        A refusal is counted in the metrics under ``name`` (``auskunft_limit_refusals_total{limit=name}``).
        """
        active = [budget for budget in budgets if budget.limit > 0]
        if active:
            decision = self.limiter.hit_all(active, note)
            if not decision.allowed:
                count_refusal(name)
            return decision
        if note is not None:
            self.limiter.note(*note)
        return ALLOWED
