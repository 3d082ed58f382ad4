"""RFC 3339 timestamps as the API writes them, to and from epoch seconds."""
from __future__ import annotations

import datetime as dt


def parse_time(s: str | None) -> float | None:
    if not s:
        return None
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rfc3339(ts: float) -> str:
    """metav1.Time: whole seconds, UTC, with a Z."""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
