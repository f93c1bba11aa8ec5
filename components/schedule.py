"""Office-hours schedules such as ``MON-FRI 08:00-20:00 Europe/Paris``, as plain functions.

Application Auto Scaling runs the scheduled actions with a cron expression and an IANA time zone,
so daylight saving time is handled by AWS; we only need the two cron expressions.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_FORMAT = re.compile(
    r"^(?P<days>[A-Z]{3}(?:-[A-Z]{3})?(?:,[A-Z]{3}(?:-[A-Z]{3})?)*|DAILY)\s+"
    r"(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})\s+(?P<tz>\S+)$"
)
EXAMPLE = "MON-FRI 08:00-20:00 Europe/Paris"


@dataclass(frozen=True)
class Schedule:
    days: str  # cron day-of-week field, e.g. "MON-FRI"
    start: tuple[int, int]  # (hour, minute)
    end: tuple[int, int]
    timezone: str

    @property
    def scale_up_cron(self) -> str:
        return _cron(self.start, self.days)

    @property
    def scale_down_cron(self) -> str:
        return _cron(self.end, self.days)

    def hours_per_week(self) -> float:
        """How long the service runs each week (for the cost model)."""
        minutes = (self.end[0] * 60 + self.end[1]) - (self.start[0] * 60 + self.start[1])
        return len(expand_days(self.days)) * minutes / 60


def _cron(at: tuple[int, int], days: str) -> str:
    hour, minute = at
    return f"cron({minute} {hour} ? * {days} *)"


def expand_days(days: str) -> list[str]:
    if days == "*":
        return list(DAYS)
    result: list[str] = []
    for part in days.split(","):
        first, _, last = part.partition("-")
        i, j = DAYS.index(first), DAYS.index(last or first)
        result.extend(DAYS[i : j + 1])
    return result


def parse_schedule(text: str) -> Schedule:
    """Parse ``DAYS HH:MM-HH:MM Area/City``; raise ValueError saying what is wrong."""
    match = _FORMAT.match(text.strip())
    if not match:
        raise ValueError(f"must look like '{EXAMPLE}' (days, start-end in 24 h time, time zone)")
    days = "*" if match["days"] == "DAILY" else match["days"]
    for part in days.split(",") if days != "*" else []:
        first, _, last = part.partition("-")
        unknown = [d for d in (first, last) if d and d not in DAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]}; days are {', '.join(DAYS)} or DAILY")
        if last and DAYS.index(last) < DAYS.index(first):
            raise ValueError(f"day range {part} runs backwards; write it as two ranges")
    start, end = _time(match["start"]), _time(match["end"])
    if end <= start:
        raise ValueError("the end time must be after the start time on the same day")
    try:
        zoneinfo.ZoneInfo(match["tz"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of the zone database such as "Europe" rather than a zone in it.
        raise ValueError(
            f"unknown time zone {match['tz']!r}; use an IANA name such as Europe/Paris"
        ) from None
    return Schedule(days=days, start=start, end=end, timezone=match["tz"])


def _time(text: str) -> tuple[int, int]:
    hour, minute = (int(x) for x in text.split(":"))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text} is not a time of day (00:00..23:59)")
    return hour, minute


_CRON = re.compile(r"^cron\((\d+) (\d+) \? \* (\S+) \*\)$")


def weekly_hours_from_crons(open_cron: str, close_cron: str) -> float:
    """Hours a week between an opening and a closing cron of the form this module writes."""
    opening, closing = _CRON.match(open_cron), _CRON.match(close_cron)
    if opening is None or closing is None or opening[3] != closing[3]:
        raise ValueError(f"not a pair of office-hours crons: {open_cron!r}, {close_cron!r}")
    schedule = Schedule(
        days=opening[3],
        start=(int(opening[2]), int(opening[1])),
        end=(int(closing[2]), int(closing[1])),
        timezone="UTC",
    )
    return schedule.hours_per_week()
