"""The VolumeBinding plugin's PreBind step: a pod whose WaitForFirstConsumer claims
were just given their node (volume.kubernetes.io/selected-node) is bound only once
every such claim is bound to a volume, as upstream's scheduler waits (up to its
bindTimeoutSeconds, 600 s by default) before it binds the pod. The wait is driven
by the claims informer's events, not by polling."""
from __future__ import annotations

import asyncio
import time

BIND_TIMEOUT = 600.0
TIMED_OUT = "context deadline exceeded"


def claim_bound(claim: dict | None) -> bool:
    return claim is not None and bool((claim.get("spec") or {}).get("volumeName")) and \
        (claim.get("status") or {}).get("phase") == "Bound"


class ClaimWaiter:
    def __init__(self, claims):
        self.claims = claims  # the scheduler's informer
        self._waiting: dict[str, set[asyncio.Event]] = {}

    def changed(self, claim: dict) -> None:
        """Called from the informer's handlers for every claim event."""
        m = claim["metadata"]
        for event in self._waiting.get(f"{m.get('namespace')}/{m['name']}", ()):
            event.set()

    async def wait_bound(self, keys: list[str], timeout: float = BIND_TIMEOUT) -> str | None:
        """None once every claim is bound; else why not (deleted, or the time ran out)."""
        event = asyncio.Event()
        for k in keys:
            self._waiting.setdefault(k, set()).add(event)
        deadline = time.monotonic() + timeout
        try:
            while True:
                event.clear()
                for k in keys:
                    claim = self.claims.get(k)
                    if claim is None:
                        return f'persistentvolumeclaim "{k.partition("/")[2]}" not found'
                pending = [k for k in keys if not claim_bound(self.claims.get(k))]
                if not pending:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return TIMED_OUT
                try:
                    await asyncio.wait_for(event.wait(), left)
                except asyncio.TimeoutError:
                    return TIMED_OUT
        finally:
            for k in keys:
                waiters = self._waiting.get(k)
                if waiters is not None:
                    waiters.discard(event)
                    if not waiters:
                        del self._waiting[k]
