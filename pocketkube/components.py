"""Running a component's `run(argv)` entry point (controllers, node agent, proxy,
DNS), imported only when its command runs so that the CLI starts fast."""
from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any, Callable


def run_component(module: str, argv: list[str]) -> int:
    """`module.run(argv)`, sync or async, as an exit code."""
    return run_entry(importlib.import_module(module).run, argv)


def run_entry(entry: Callable[..., Any], argv: list[str]) -> int:
    """Call a `run(argv)` entry point, sync or async, and turn its result into an exit code."""
    try:
        result = entry(argv)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
    except KeyboardInterrupt:
        return 0
    if result is None:
        return 0
    return int(result)


async def _await(awaitable):
    return await awaitable
