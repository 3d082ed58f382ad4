"""kubectl under a pseudo-terminal, as a person runs `kubectl exec -it` or `attach -it`:
what it prints is read as it comes, so kubectl never blocks on a full terminal."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
import time
from pathlib import Path


class KubectlTerminal:
    def __init__(self, binary: Path, kubeconfig: Path, home: Path, *args: str, rows: int, cols: int,
                 timeout: float):
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env["HOME"] = str(home)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(str(binary), [str(binary), f"--kubeconfig={kubeconfig}", *args], env)
        # the terminal size travels on the resize stream/channel to the container's tty
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.out = b""
        self.timeout = timeout   # how long drain_until waits unless told

    def write(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def drain_until(self, marker: bytes, timeout: float | None = None) -> None:
        """Read what kubectl prints until `marker` shows or the time is up (or kubectl ended)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while marker not in self.out and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    return
