"""When a consultant pool works, e.g. ``"mon-fri 09:00-18:00; sat 10:00-14:00"`` in a time zone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
ALWAYS = "always"


class HoursError(ValueError):
    pass


def _time(text: str) -> dt.time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    return dt.time(hours, minutes)


@dataclass(frozen=True)
class WorkingHours:
    """Per weekday (0 = Monday), the local [start, end) windows. Empty spec: never open."""

    windows: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str = "Asia/Almaty") -> WorkingHours:
        days: list[list[tuple[dt.time, dt.time]]] = [[] for _ in DAYS]
        if spec.strip().lower() == ALWAYS:
            days = [[(dt.time.min, dt.time.max)] for _ in DAYS]
        else:
            for part in filter(str.strip, spec.lower().replace(",", ";").split(";")):
                match = _PART.match(part)
                if not match or match["first"] not in DAYS:
                    raise HoursError(f"cannot read working hours {part.strip()!r}")
                first = DAYS.index(match["first"])
                last = DAYS.index(match["last"]) if match["last"] in DAYS else first
                if match["last"] and match["last"] not in DAYS:
                    raise HoursError(f"unknown day in {part.strip()!r}")
                start, end = _time(match["start"]), _time(match["end"])
                if end <= start:
                    raise HoursError(f"working hours end before they start: {part.strip()!r}")
                for day in (
                    range(first, last + 1)
                    if first <= last
                    else [*range(first, 7), *range(0, last + 1)]
                ):
                    days[day].append((start, end))
        try:
            tz = ZoneInfo(zone)
        except Exception as exc:
            raise HoursError(f"unknown time zone {zone!r}") from exc
        return cls(tuple(tuple(sorted(day)) for day in days), tz)

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        return any(start <= local.time() < end for start, end in self.windows[local.weekday()])

    def next_open(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment the pool opens (``now`` if open); None if it never does."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self.windows[day.weekday()]:
                candidate = dt.datetime.combine(day, start, tzinfo=self.zone)
                if candidate > local:
                    return candidate
        return None
