"""Cron schedules for CronJobs, without I/O: when a schedule fires next, and
which firing (if any) a CronJob missed since it last looked.

Five-field cron syntax (via cronsim) plus the @-descriptors upstream accepts;
times are evaluated in the CronJob's spec.timeZone (an IANA name) or UTC.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

from cronsim import CronSim, CronSimError

_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
TOO_MANY_MISSED = 100  # upstream gives up listing missed times past this many


class ScheduleError(ValueError):
    pass


def _expr(schedule: str) -> str:
    s = " ".join((schedule or "").split())
    return _DESCRIPTORS.get(s.lower(), s)


def zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleError(f"unknown time zone {name}") from e


def validate(schedule: str) -> str | None:
    """None if the schedule parses, else upstream-like wording of why not."""
    try:
        CronSim(_expr(schedule), dt.datetime(2000, 1, 1))
    except (CronSimError, ValueError) as e:
        return str(e) or "invalid schedule"
    return None


def next_after(schedule: str, tz_name: str | None, after: float) -> float:
    """The first firing strictly after `after` (epoch seconds)."""
    start = dt.datetime.fromtimestamp(after, zone(tz_name)).replace(microsecond=0)
    try:
        return next(CronSim(_expr(schedule), start)).timestamp()
    except (CronSimError, ValueError, StopIteration) as e:
        raise ScheduleError(str(e)) from e


def most_recent(schedule: str, tz_name: str | None, earliest: float, now: float) -> tuple[float | None, int]:
    """(the latest firing in (earliest, now], how many firings that window holds,
    counting at most TOO_MANY_MISSED + 1)."""
    latest, count, t = None, 0, earliest
    while True:
        t = next_after(schedule, tz_name, t)
        if t > now:
            return latest, count
        latest, count = t, count + 1
        if count > TOO_MANY_MISSED:
            # skip ahead: only the most recent one matters now
            t2 = max(t, now - 366 * 86400)
            while True:
                nxt = next_after(schedule, tz_name, t2)
                if nxt > now:
                    return latest, count
                latest, t2 = nxt, nxt
