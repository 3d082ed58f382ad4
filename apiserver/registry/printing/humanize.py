"""How kube-apiserver's table printers render times, labels and lists.

The wording matters: kubectl prints these cells verbatim, and users (and scripts)
compare our output with a real cluster's.
"""
from __future__ import annotations

from datetime import datetime, timezone

from apiserver.machinery import schemas


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp (metav1.Time or MicroTime), or None when unset/garbled."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


def human_duration(seconds: float) -> str:
    """Upstream's duration.HumanDuration: coarser as the span grows (5s, 3m2s, 2d3h, 3y)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: str | None, now: datetime) -> str:
    """translateTimestampSince: `<unknown>` for an unset time."""
    t = parse_time(timestamp)
    if t is None:
        return "<unknown>"
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return human_duration((now - t).total_seconds())


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: sorted k=v pairs, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def list_with_more(items: list[str], total: int, limit: int = 3, empty: str = "<unset>") -> str:
    """`a,b,c + 2 more...` as the endpoint printers shorten long lists."""
    shown = ",".join(items[:limit])
    if total > limit:
        return f"{shown} + {total - limit} more..."
    return shown or empty


def doc(definition: str, field: str) -> str:
    """A field's upstream description (SwaggerDoc), read from the loaded schemas."""
    try:
        props = schemas.definition(definition).get("properties") or {}
        return (props.get(field) or {}).get("description", "")
    except KeyError:
        return ""
