"""Each in-process component's own log, as a file in the CRI log format.

`pocketkube up` runs the API server, controllers, scheduler, proxy and DNS in one
process, so they share one stderr. Upstream each runs in its own container with
its own log, which `kubectl logs -n kube-system kube-apiserver-<node>` shows; here
a logging handler sends each record, by its logger's name, to its component's
file (`<ts> stderr F <line>`, the format the node agent reads container logs in),
and the node agent serves those files as its mirror pods' logs.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

# logger name prefix -> the component whose log the record belongs to (the longest prefix wins)
COMPONENT_LOGGERS = {
    "apiserver": "kube-apiserver",
    "hypercorn": "kube-apiserver",          # the API server's HTTP server
    "controllers": "kube-controller-manager",
    "controllers.scheduler": "kube-scheduler",
    "proxy": "kube-proxy",
    "clusterdns": "coredns",
}


def component_of(logger_name: str) -> str | None:
    best = None
    for prefix in COMPONENT_LOGGERS:
        if logger_name == prefix or logger_name.startswith(prefix + "."):
            if best is None or len(prefix) > len(best):
                best = prefix
    return COMPONENT_LOGGERS[best] if best else None


def cri_lines(text: str, created: float, stream: str = "stderr") -> bytes:
    """One CRI record per line of `text` (a traceback is several), full lines ("F")."""
    at = dt.datetime.fromtimestamp(created, dt.timezone.utc)
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}000Z"
    return b"".join(f"{ts} {stream} F {line}\n".encode() for line in text.splitlines() or [""])


class ComponentLogHandler(logging.Handler):
    def __init__(self, log_dir: str):
        super().__init__()
        self.log_dir = log_dir
        self._files: dict[str, object] = {}

    def path_of(self, component: str) -> str:
        return os.path.join(self.log_dir, f"{component}.log")

    def emit(self, record: logging.LogRecord) -> None:
        component = component_of(record.name)
        if component is None:
            return
        try:
            f = self._files.get(component)
            if f is None:
                f = self._files[component] = open(self.path_of(component), "ab", buffering=0)
            f.write(cri_lines(self.format(record), record.created))
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()
        super().close()


def install(log_dir: str) -> ComponentLogHandler:
    """Add the handler to the root logger, formatting as the console does."""
    os.makedirs(log_dir, exist_ok=True)
    handler = ComponentLogHandler(log_dir)
    console = next((h for h in logging.getLogger().handlers if h.formatter is not None), None)
    handler.setFormatter(console.formatter if console else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler
