"""Progressive delays for failed inbox logins, counted per user name and per client address in the limit store.

Nobody is locked out. A user name (and, separately, a client address) has a few free failures; after that each
further attempt has to wait for a delay that doubles with every failure (1, 2, 4, … s, at most 60 s) counted from
the last failure. An attempt during the delay is refused without looking at the password (the web answers 429 with
``Retry-After``); a right password after the delay logs in and clears the user name's failures. The failures of an
address are not cleared by a success (else one valid account would reset the count for a password spray); they are
forgotten ``forget_after`` seconds after the address's last failure.

Unknown user names cost a full password hash (so that they take as long as known ones): each address may try only
``unknown_per_address`` of them per ``unknown_window``; beyond that every attempt from the address, for any name, is
refused until the budget frees up (refusing only unknown names would tell which names exist).

Everything lives in the shared :class:`~bot.limits.base.Limiter` of the citizen limits (memory, SQL or Redis), so
every process of a deployment counts together:

* ``login:f:<key>`` notes ``<failures>|<time of the last failure>`` (kept ``forget_after`` seconds);
* ``login:g:<key>`` is a sliding window of one second that lets attempts for a key with failures through one at a
  time (five at a time for an address in its free failures), so that attempts sent at the same moment cannot all
  pass before the first failure is written;
* ``login:x:<address>`` counts unknown user names, ``login:b:<address>`` notes until when the address is refused.

User names are stored only as keyed hashes; addresses arrive pseudonymised (:meth:`CitizenLimits.address_key
<bot.limits.policy.CitizenLimits.address_key>`: IPv6 by /64, the client behind trusted proxies).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from typing import Callable, List, Optional, Tuple

from bot.errors import AuskunftError
from bot.limits.base import Budget, Limiter
from bot.limits.memory import MemoryLimiter
from bot.metrics import count_refusal

FREE_PER_NAME = 5
FREE_PER_ADDRESS = 20
FIRST_DELAY = 1.0
MAX_DELAY = 60.0
FORGET_AFTER = 900.0
UNKNOWN_PER_ADDRESS = 20
UNKNOWN_WINDOW = 900.0
GATE_WINDOW = 1.0
ADDRESS_BURST = 5


class LoginThrottled(AuskunftError):
    """An attempt during a login delay; ``retry_after`` whole seconds (at least 1) until the next may be made."""

    def __init__(self, username: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many failed logins for {username!r} or from this address; "
                         f"try again in {self.retry_after} s")


def delay_for(failures: int, free: int, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after the last failure: none for the first ``free`` failures, then ``first`` doubling to ``cap``.

    Example: with ``free=5``, the 5th failure makes the next attempt wait 1 s, the 6th 2 s, the 7th 4 s.
    """
    if failures < free:
        return 0.0
    return min(cap, first * 2.0 ** min(failures - free, 32))


class LoginThrottle:
    """Progressive login delays per user name and client address, kept in a shared limiter store.

    Args:
        limiter: the store (default: one in this process's memory).
        secret: the key of the user-name hashes (the same in every process of a deployment; random by default).
        clock: seconds since the epoch (tests pass their own; processes on several machines share it).
        free_per_name: failures of one user name without delay.
        free_per_address: failures from one address without delay.
        first_delay: the first delay in seconds; each further failure doubles it.
        max_delay: the longest delay in seconds.
        forget_after: seconds after the last failure when a name's or an address's failures are forgotten.
        unknown_per_address: unknown user names one address may try per ``unknown_window`` seconds.
        unknown_window: see ``unknown_per_address``.
    """

    def __init__(self, limiter: Optional[Limiter] = None, secret: str = "", clock: Callable[[], float] = time.time,
                 free_per_name: int = FREE_PER_NAME, free_per_address: int = FREE_PER_ADDRESS,
                 first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY, forget_after: float = FORGET_AFTER,
                 unknown_per_address: int = UNKNOWN_PER_ADDRESS, unknown_window: float = UNKNOWN_WINDOW) -> None:
        if min(free_per_name, free_per_address, unknown_per_address) < 1 or min(first_delay, forget_after) <= 0:
            raise ValueError("login throttle: free failures and unknown names need at least 1, delays and windows "
                             "more than 0 seconds")
        self.limiter: Limiter = limiter if limiter is not None else MemoryLimiter(clock)
        self._secret = secret or secrets.token_hex(16)
        self._clock = clock
        self.free_per_name, self.free_per_address = free_per_name, free_per_address
        self.first_delay, self.max_delay, self.forget_after = first_delay, max(first_delay, max_delay), forget_after
        self.unknown_per_address, self.unknown_window = unknown_per_address, unknown_window

    def _keys(self, username: str, address: str) -> List[Tuple[str, int, int]]:
        """``(key, free failures, attempts at a time)`` for the name and, when known, the address."""
        name = hmac.new(self._secret.encode(), username.encode("utf-8"), hashlib.sha256).hexdigest()[:24]
        keys = [(f"u:{name}", self.free_per_name, 1)]
        if address:
            keys.append((f"a:{address[:80]}", self.free_per_address, ADDRESS_BURST))
        return keys

    def failures(self, key: str) -> Tuple[int, float]:
        """The failures counted under ``key`` (``u:<hash>`` or ``a:<address>``) and the time of the last one."""
        stored = self.limiter.recall(f"login:f:{key}")
        if not stored:
            return 0, 0.0
        count, _, last = stored.partition("|")
        try:
            return max(0, int(count)), float(last)
        except ValueError:
            return 0, 0.0

    def check(self, username: str, address: str = "") -> None:
        """Let one attempt through, or raise while the name or the address has to wait.

        Args:
            username: the normalised user name tried.
            address: the client's address key (pseudonymised); empty = count per user name only.

        Raises:
            LoginThrottled: the attempt comes during a delay (nothing was checked; ``retry_after`` says how long).
        """
        now = self._clock()
        waits = [0.0]
        if address:
            blocked = self.limiter.recall(f"login:b:{address[:80]}")
            waits.append(_float(blocked) - now)
        gates: List[Budget] = []
        for key, free, burst in self._keys(username, address):
            count, last = self.failures(key)
            waits.append(last + delay_for(count, free, self.first_delay, self.max_delay) - now)
            if count:
                gates.append(Budget(f"login:g:{key}", 1 if count >= free else burst, GATE_WINDOW))
        if max(waits) > 0:
            count_refusal("login")
            raise LoginThrottled(username, max(waits))
        if gates:
            decision = self.limiter.hit_all(gates)
            if not decision.allowed:
                count_refusal("login")
                raise LoginThrottled(username, decision.retry_after)

    def failed(self, username: str, address: str = "") -> None:
        """Count a failed attempt for the name and the address (the next delay starts now)."""
        now = self._clock()
        for key, _, _ in self._keys(username, address):
            count, _ = self.failures(key)
            self.limiter.note(f"login:f:{key}", f"{count + 1}|{now!r}", self.forget_after)

    def succeeded(self, username: str) -> None:
        """A right password: the user name's failures are cleared (the address's are not, see the module)."""
        key = self._keys(username, "")[0][0]
        if self.failures(key)[0]:  # a read is cheaper than a write (SQLite takes its write lock for one)
            self.limiter.note(f"login:f:{key}", "0|0", 1.0)

    def unknown_name(self, username: str, address: str = "") -> None:
        """Count an attempt on a user name that does not exist against the address's budget, before it is hashed.

        Raises:
            LoginThrottled: the address tried too many unknown names; every attempt from it is refused until
                the budget frees up.
        """
        if not address:
            return
        decision = self.limiter.hit(f"login:x:{address[:80]}", self.unknown_per_address, self.unknown_window)
        if not decision.allowed:
            until = self._clock() + decision.retry_after
            self.limiter.note(f"login:b:{address[:80]}", repr(until), max(1.0, decision.retry_after))
            count_refusal("login")
            raise LoginThrottled(username, decision.retry_after)


def _float(text: Optional[str]) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0
