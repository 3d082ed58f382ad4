"""The simple JSONPaths CRDs use (`.spec.replicas`, `.status.conditions[0].type`,
`.metadata.labels.app`): read the first match, or set a plain field path."""
from __future__ import annotations

import json
import re

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


def steps(path: str) -> list[str | int]:
    out: list[str | int] = []
    for name, idx, quoted in _STEP.findall(path.strip().strip("{}")):
        out.append(int(idx) if idx else (name or quoted))
    return out


def first(obj, path: str):
    cur = obj
    for step in steps(path):
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return None
            cur = cur[step]
        else:
            if not isinstance(cur, dict) or step not in cur:
                return None
            cur = cur[step]
    return cur


def set_value(obj: dict, path: str, value) -> None:
    cur = obj
    parts = [s for s in steps(path) if isinstance(s, str)]
    for step in parts[:-1]:
        nxt = cur.get(step)
        if not isinstance(nxt, dict):
            nxt = cur[step] = {}
        cur = nxt
    if parts:
        cur[parts[-1]] = value


def as_text(value) -> str:
    """A non-string cell of a string column, as upstream's JSONPath printer shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
