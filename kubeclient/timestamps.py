"""Timestamps as the API writes them, for every client (controllers, node agent).

metav1.Time is RFC 3339 in UTC to the second ("2024-01-02T03:04:05Z"): conditions,
events, taints. metav1.MicroTime keeps six fraction digits: Lease renewTime and
acquireTime, where the API server refuses fewer.
"""
from __future__ import annotations

import datetime as dt

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MICRO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now(at: dt.datetime | None = None) -> str:
    """metav1.Time of `at` (default: this instant)."""
    return (at or dt.datetime.now(dt.timezone.utc)).strftime(TIME_FORMAT)


def micro_time(at: dt.datetime | None = None) -> str:
    """metav1.MicroTime of `at` (default: this instant)."""
    return (at or dt.datetime.now(dt.timezone.utc)).strftime(MICRO_TIME_FORMAT)


def epoch_time(seconds: float) -> str:
    """metav1.Time of a Unix time (whole seconds, UTC)."""
    return now(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


def from_epoch(seconds) -> str | None:
    """metav1.Time of a Unix time as runtimes report it; None for unset (0, negative, not a number)."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return epoch_time(seconds)


def parse_time(text: str | None) -> float | None:
    """Unix time of a metav1.Time or MicroTime string; None when absent or malformed."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
