"""Container logs in the CRI format (`<RFC3339Nano> <stream> <P|F> <text>`), as
Podman's k8s-file driver writes them; selection by the pods/log options. Pure
apart from reading the file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class LogLine:
    ts: str          # RFC3339Nano as written
    stream: str      # stdout | stderr
    text: bytes      # including the trailing newline for full lines

    @property
    def time(self) -> dt.datetime:
        return parse_time(self.ts)


@dataclass
class LogOptions:
    tail_lines: int | None = None
    since: dt.datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None


def parse_time(s: str) -> dt.datetime:
    """RFC3339 with up to nanoseconds; Python keeps microseconds."""
    s = s.strip().replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        frac = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            frac += rest[i]
            i += 1
        s = f"{head}.{frac[:6].ljust(6, '0')}{rest[i:]}"
    return dt.datetime.fromisoformat(s)


def parse(data: bytes, pending: bytearray | None = None) -> tuple[list[LogLine], bytes]:
    """Parse whole lines of a CRI log; returns the lines and the unparsed remainder.

    Partial ("P") records are joined to the next record (the runtime splits long lines)."""
    lines: list[LogLine] = []
    joined = pending if pending is not None else bytearray()
    start = 0
    while True:
        nl = data.find(b"\n", start)
        if nl == -1:
            break
        rec = data[start:nl]
        start = nl + 1
        parts = rec.split(b" ", 3)
        if len(parts) < 3:
            continue
        ts, stream, tag = parts[0].decode(), parts[1].decode(), parts[2]
        text = parts[3] if len(parts) == 4 else b""
        if tag == b"P":
            joined += text
            continue
        lines.append(LogLine(ts, stream, bytes(joined) + text + b"\n"))
        joined.clear()
    return lines, data[start:]


def select(lines: list[LogLine], opts: LogOptions) -> list[LogLine]:
    if opts.since is not None:
        lines = [ln for ln in lines if ln.time >= opts.since]
    if opts.tail_lines is not None:
        lines = lines[-opts.tail_lines:] if opts.tail_lines > 0 else []
    return lines


def render(line: LogLine, timestamps: bool) -> bytes:
    if not timestamps:
        return line.text
    t = line.time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    # upstream prints nanoseconds; keep the digits the runtime wrote
    frac = line.ts.split(".", 1)[1].rstrip("Z").split("+")[0] if "." in line.ts else "000000000"
    return f"{t.split('.')[0]}.{frac.ljust(9, '0')[:9]}Z ".encode() + line.text


class Limiter:
    """limitBytes: stop after that many bytes, cutting the last line."""

    def __init__(self, limit: int | None):
        self.left = limit

    def take(self, data: bytes) -> tuple[bytes, bool]:
        if self.left is None:
            return data, False
        out = data[: self.left]
        self.left -= len(out)
        return out, self.left <= 0


def options_from_query(q) -> LogOptions:
    opts = LogOptions()
    if q.get("tailLines") not in (None, ""):
        opts.tail_lines = int(q["tailLines"])
    if q.get("sinceSeconds") not in (None, ""):
        opts.since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=int(q["sinceSeconds"]))
    elif q.get("sinceTime") not in (None, ""):
        opts.since = parse_time(q["sinceTime"])
    opts.timestamps = q.get("timestamps") in ("true", "1")
    if q.get("limitBytes") not in (None, ""):
        opts.limit_bytes = int(q["limitBytes"])
    return opts
