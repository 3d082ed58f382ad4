"""One admission step timed for upstream's apiserver_admission_*_duration_seconds: the chain's
steps (assembly/admission_metrics.py), each plugin (build_chain) and each webhook call."""
from __future__ import annotations

import time
from typing import Awaitable

from apiserver.machinery.errors import StatusError


async def observe_step(histogram, labels: tuple, operation: str, step: Awaitable) -> None:
    """Await `step` and observe its seconds under (*labels, operation, rejected), rejected
    being "true" when it refused the request (a StatusError, raised on)."""
    start, rejected = time.perf_counter(), "false"
    try:
        await step
    except StatusError:
        rejected = "true"
        raise
    finally:
        histogram.observe((*labels, operation, rejected), time.perf_counter() - start)
