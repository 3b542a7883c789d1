"""One worker at a time for a job: a row of ``outbox_items`` leased like an item and renewed while the job runs.

Jobs that are not queued item by item (notifications are derived from the tickets, retention from dates) take a
*turn* before each round: any number of workers (``auskunft serve worker``, web processes with background jobs) may
try, only the one whose lease :meth:`Outbox.lease` granted runs the round, the others skip it. While the round runs a
thread renews the lease every third of its length; if the holder dies (SIGKILL, a lost host) the renewals stop and
another worker takes the turn once the lease has run out. Nothing is counted as an attempt: the row never becomes a
dead letter.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.outbox.store import Outbox, utcnow

KEY = "turn"


class Turn:
    """The turn of one job in the database behind ``engine``.

    Args:
        engine: the database all workers share (the ticket database).
        job: the job's name, e.g. ``notifications``.
        lease: how long a turn is held without renewal (how long the others wait after its holder died).
        clock: the current time (aware datetime).
    """

    def __init__(self, engine: Engine, job: str, lease: timedelta = timedelta(minutes=2),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.box = Outbox(engine, f"turn:{job}", clock=clock, lease=lease)
        self.lease = lease
        self._made = False

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Yield True while this worker holds the turn (renewed in the background), False if another one does."""
        if not self._made:
            self.box.put(KEY, {})  # False when another worker made it first: same row
            self._made = True
        taken = self.box.lease(1)
        if not taken:
            yield False
            return
        item, stop = taken[0], threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                try:
                    if not self.box.renew(item):
                        return  # lost (the lease ran out while the database was away): the round ends on its own
                except SQLAlchemyError:
                    continue  # the database is briefly away; the next renewal may still be in time

        renewer = threading.Thread(target=renew, name=f"{self.box.kind}-renewal", daemon=True)
        renewer.start()
        try:
            yield True
        finally:
            stop.set()
            renewer.join()
            self.box.release(item)
