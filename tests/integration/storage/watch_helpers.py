"""Small helpers for reading watch streams in tests."""
from __future__ import annotations

import asyncio

P = "/registry/pods/"


async def take(stream, n, timeout=10.0):
    """The next n non-bookmark events of a watch stream."""
    out = []

    async def run():
        while len(out) < n:
            ev = await stream.__anext__()
            if ev.type != "BOOKMARK":
                out.append(ev)

    await asyncio.wait_for(run(), timeout)
    return out


async def assert_quiet(stream, timeout=0.1):
    """No further event arrives (a short poll; the stream stays open)."""
    task = asyncio.ensure_future(stream.__anext__())
    done, _ = await asyncio.wait({task}, timeout=timeout)
    task.cancel()
    assert not done or task.result().type == "BOOKMARK", task.result() if done else None
