"""What every client program (controllers, node agent, proxy, DNS) does as a
process: log one JSON-ish line per record, run its loops together, and stop
cleanly on SIGTERM/SIGINT."""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable


def configure_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format='{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":%(message)r}')
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the rest


async def run_together(*loops: Awaitable) -> None:
    """Run loops side by side until one fails or we are cancelled; then cancel
    the others and wait for them, so none outlives its component."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_until_signalled(work: Awaitable) -> None:
    """Run `work` until it ends or SIGTERM/SIGINT cancel it, so it stops on its own
    terms (a node agent stops its podman service, a leader releases its Lease)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
