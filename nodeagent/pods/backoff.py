"""Upstream's restart back-off: the first restart is immediate, then 10 s,
doubling to a 5 min cap; a container that ran 10 min clean resets it."""

from __future__ import annotations

from dataclasses import dataclass

INITIAL = 10.0
CAP = 300.0
RESET_AFTER = 600.0


@dataclass
class BackOff:
    delay: float = 0.0          # the delay the next restart must wait (0: none yet)
    until: float = 0.0          # monotonic time before which no restart happens
    last_failure: float = 0.0

    def in_backoff(self, now: float) -> bool:
        return now < self.until

    def remaining(self, now: float) -> float:
        return max(0.0, self.until - now)

    def record_restart(self, now: float) -> None:
        """Called when a restart happens: the next one waits one step longer."""
        if self.last_failure and now - self.last_failure > RESET_AFTER:
            self.delay = 0.0
        self.delay = INITIAL if self.delay == 0 else min(self.delay * 2, CAP)
        self.until = now + self.delay
        self.last_failure = now

    def message(self, container: str, pod: str, namespace: str, uid: str) -> str:
        return (f"back-off {int(self.delay)}s restarting failed container={container} "
                f"pod={pod}_{namespace}({uid})")
