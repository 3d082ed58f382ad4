"""Cron schedules for CronJobs, without I/O: when a schedule fires next, and
which firing (if any) a CronJob missed since it last looked.

Five-field cron syntax (via cronsim; "?" is "*"), the @-descriptors and
"@every <Go duration>", as upstream's parser (robfig/cron) accepts them; times
are evaluated in the CronJob's spec.timeZone (an IANA name) or UTC.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from cronsim import CronSim, CronSimError

_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
TOO_MANY_MISSED = 100  # upstream gives up listing missed times past this many


class ScheduleError(ValueError):
    pass


_EVERY = "@every "
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def _expr(schedule: str) -> str:
    s = " ".join((schedule or "").split())
    return _DESCRIPTORS.get(s.lower(), s).replace("?", "*")


def every_seconds(schedule: str) -> int | None:
    """The interval of an "@every <duration>" schedule in whole seconds (at least 1, as
    robfig/cron's constant-delay schedule rounds it), or None for any other schedule."""
    s = " ".join((schedule or "").split())
    if not s.startswith(_EVERY):
        return None
    text, sign = s[len(_EVERY):], 1
    if text[:1] in "+-" and text:
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    if text == "0":
        return 1
    pos, total = 0, 0.0
    for m in _GO_DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ScheduleError(f"failed to parse duration {s}")
    return max(int(sign * total), 1)


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
        if every_seconds(schedule) is None:
            CronSim(_expr(schedule), dt.datetime(2000, 1, 1))
    except (CronSimError, ValueError) as e:
        return str(e) or "invalid schedule"
    return None


def next_after(schedule: str, tz_name: str | None, after: float) -> float:
    """The first firing strictly after `after` (epoch seconds)."""
    every = every_seconds(schedule)
    if every is not None:  # constant delay from the whole second before, as robfig/cron's Every
        return float(int(after) + every)
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
