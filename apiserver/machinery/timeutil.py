"""Timestamps as Kubernetes writes them.

metav1.Time is RFC 3339 in UTC to the second (`2024-01-02T03:04:05Z`);
metav1.MicroTime (Events, Leases) keeps six fractional digits
(`2024-01-02T03:04:05.123456Z`). Parsing accepts either, any number of
fractional digits (beyond microseconds they are cut), and numeric offsets.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"  # Go's layout, quoted in error messages
RFC3339_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))")


class TimeError(ValueError):
    def __init__(self, text: str, layout: str = RFC3339_LAYOUT):
        message = f'parsing time "{text}" as "{layout}": cannot parse "{text}" as RFC 3339'
        super().__init__(message)
        self.message = message


def now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(dt: datetime) -> str:
    """metav1.Time: UTC, whole seconds (sub-second parts are dropped, not rounded)."""
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(dt: datetime) -> str:
    """metav1.MicroTime: UTC with exactly six fractional digits."""
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_time() -> str:
    return format_time(now())


def now_micro_time() -> str:
    return format_micro_time(now())


def parse_time(text: str | None, layout: str = RFC3339_LAYOUT) -> datetime | None:
    """An aware UTC datetime; None for null/empty (upstream's zero time)."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise TimeError(str(text), layout)
    m = _RFC3339.fullmatch(text)
    if not m:
        raise TimeError(text, layout)
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        if zulu:
            tz = timezone.utc
        else:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= timedelta(hours=24) or int(off_m) >= 60:
                raise ValueError("offset out of range")
            tz = timezone(offset if sign == "+" else -offset)
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    except ValueError:
        raise TimeError(text, layout) from None
    return dt.astimezone(timezone.utc)


def parse_micro_time(text: str | None) -> datetime | None:
    return parse_time(text, RFC3339_MICRO_LAYOUT)


def normalize_time(text: str | None) -> str | None:
    """Re-print a client's timestamp the way the server stores it (UTC, seconds)."""
    dt = parse_time(text)
    return None if dt is None else format_time(dt)


def normalize_micro_time(text: str | None) -> str | None:
    dt = parse_micro_time(text)
    return None if dt is None else format_micro_time(dt)


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)  # naive times in this code base are UTC
    return dt.astimezone(timezone.utc)
