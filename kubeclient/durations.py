"""Go-style durations as upstream components' flags take them (40s, 5m0s, 1m30s,
500ms, or plain seconds), shared by the controllers' and the node agent's flags."""
from __future__ import annotations

import argparse
import re

_SCALE = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """Seconds; argparse.ArgumentTypeError (a ValueError) when it is not a duration."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
    return sum(float(n) * _SCALE[u] for n, u in parts)
