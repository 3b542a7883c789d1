"""Office hours: when agents answer, and when the office opens next.

Written like ``Mo-Do 08:00-16:00; Fr 08:00-12:00`` (German or English day abbreviations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

DAYS = {"mo": 0, "di": 1, "tu": 1, "mi": 2, "we": 2, "do": 3, "th": 3, "fr": 4, "sa": 5, "so": 6, "su": 6}
_PART = re.compile(r"^\s*(\w\w)(?:\s*-\s*(\w\w))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class OfficeHours:
    """Opening intervals per weekday (0 = Monday) in the agency's time zone."""

    intervals: Dict[int, Tuple[Tuple[time, time], ...]]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: str = "Europe/Berlin") -> "OfficeHours":
        """Parse ``Mo-Fr 08:00-16:00; Sa 09:00-12:00``.

        Raises:
            ValueError: the text or the time zone is invalid (the message names the bad part).
        """
        intervals: Dict[int, List[Tuple[time, time]]] = {}
        for part in filter(None, (p.strip() for p in text.split(";"))):
            match = _PART.match(part)
            if not match:
                raise ValueError(f"office hours: {part!r} is not like 'Mo-Fr 08:00-16:00'")
            first, last = match.group(1).lower(), (match.group(2) or match.group(1)).lower()
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"office hours: unknown day in {part!r} (use Mo Di Mi Do Fr Sa So)")
            start = time(int(match.group(3)), int(match.group(4)))
            end = time(int(match.group(5)), int(match.group(6)))
            if end <= start:
                raise ValueError(f"office hours: {part!r} ends before it starts")
            day = DAYS[first]
            while True:
                intervals.setdefault(day, []).append((start, end))
                if day == DAYS[last]:
                    break
                day = (day + 1) % 7
        if not intervals:
            raise ValueError("office hours: none given (e.g. 'Mo-Fr 08:00-16:00')")
        try:
            zone = ZoneInfo(timezone)
        except Exception:
            raise ValueError(f"office hours: unknown time zone {timezone!r}") from None
        return cls({d: tuple(sorted(v)) for d, v in intervals.items()}, zone)

    def is_open(self, at: datetime) -> bool:
        """Whether the office is staffed at ``at`` (any time zone)."""
        local = at.astimezone(self.zone)
        return any(start <= local.time() < end for start, end in self.intervals.get(local.weekday(), ()))

    def next_opening(self, at: datetime) -> Optional[datetime]:
        """The next moment the office opens after ``at`` (``at`` itself if it is open)."""
        local = at.astimezone(self.zone)
        if self.is_open(local):
            return local
        for offset in range(0, 8):
            day = (local + timedelta(days=offset)).date()
            for start, _end in self.intervals.get(day.weekday(), ()):
                candidate = datetime.combine(day, start, tzinfo=self.zone)
                if candidate > local:
                    return candidate
        return None
