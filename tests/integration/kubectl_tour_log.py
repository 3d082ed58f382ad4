"""Reading a kubectl `-v=8` stderr: which requests got which status, and what a user would see.

At -v=8 kubectl writes klog lines (`I1125 19:49:41.892541  5828 file.go:463] text`) and
multi-line continuations (indented headers, ` >` closers, hexdumps of protobuf bodies) on stderr, mixed with what it
prints at normal verbosity (errors, server `Warning:` lines, klog W/E lines). The tour
asserts on both halves, so this splits them. Two log layouts exist across 1.27-1.33:
  1.27-1.32: `GET https://host/path` then `Response Status: 404 Not Found in 4 milliseconds`
  1.33:      `"Request" verb="GET" url="https://host/path"` then `"Response" status="404 Not Found"`
Responses carry no URL at -v=8 in either layout, so each is paired with the last request
line before it (kubectl's tour commands send their requests one after another).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_KLOG = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w.-]+:\d+\] (.*)$")
_OLD_REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (https?://\S+)")
_OLD_RESPONSE = re.compile(r"^Response Status: (\d{3})")
_NEW_REQUEST = re.compile(r'^"Request" verb="(\w+)" url="([^"]+)"')
_NEW_RESPONSE = re.compile(r'^"Response" (?:verb="\w+" url="[^"]+" )?status="(\d{3})')
# 1.27-1.28 dump protobuf response bodies (the OpenAPI v2 document) as hexdump lines
_HEXDUMP = re.compile(r"^[0-9a-f]{8}  [0-9a-f]{2} ")


@dataclass(frozen=True)
class Exchange:
    verb: str
    url: str      # path and query, without scheme and host
    status: int


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def split_stderr(stderr: str) -> tuple[list[Exchange], list[str]]:
    """(every request/response pair seen, the stderr lines a user would see at normal verbosity)."""
    exchanges: list[Exchange] = []
    visible: list[str] = []
    last: tuple[str, str] | None = None
    for line in stderr.splitlines():
        m = _KLOG.match(line)
        if m is None:
            if line.startswith(("\t", " ", ">")) or not line.strip() or _HEXDUMP.match(line):
                continue   # continuation of a multi-line klog entry (headers, bodies)
            visible.append(line)
            continue
        level, text = m.groups()
        if level in "WEF":
            visible.append(f"{level}] {text}")
            continue
        req = _OLD_REQUEST.match(text) or _NEW_REQUEST.match(text)
        if req:
            last = (req.group(1), _path(req.group(2)))
            continue
        resp = _OLD_RESPONSE.match(text) or _NEW_RESPONSE.match(text)
        if resp and last is not None:
            exchanges.append(Exchange(last[0], last[1], int(resp.group(1))))
            last = None
    return exchanges, visible
