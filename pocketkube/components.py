"""Finding and running the other components' entry points, which may not exist yet.

A missing or broken component is reported as one plain sentence
(ComponentMissing), never an ImportError traceback.
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any, Callable


class ComponentMissing(RuntimeError):
    pass


def load_entry(module: str, name: str, what: str) -> Callable[..., Any]:
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ComponentMissing(f"{what} is not available ({module}: {e})") from None
    entry = getattr(mod, name, None)
    if entry is None:
        raise ComponentMissing(f"{what} is not available ({module} has no {name}())")
    return entry


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
