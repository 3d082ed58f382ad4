"""Liveness, readiness and startup probes: exec, httpGet, tcpSocket.

One ProbeLoop per (container attempt, probe kind). It calls back on every result
change, after the configured success/failure thresholds, as upstream does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import httpx

from ..runtime.podman import Podman, PodmanError

log = logging.getLogger(__name__)


def resolve_port(port, container: dict) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"port {port!r} not found")


async def run_probe(probe: dict, container: dict, *, podman: Podman, cid: str, pod_ip: str) -> tuple[bool, str]:
    """One probe attempt: (success, message for the Unhealthy event)."""
    timeout = float(probe.get("timeoutSeconds", 1))
    try:
        if "exec" in probe:
            code, out = await podman.exec_run(cid, probe["exec"].get("command") or [], timeout)
            return code == 0, out.decode(errors="replace").strip()[:512]
        if "httpGet" in probe:
            h = probe["httpGet"]
            host = h.get("host") or pod_ip or "127.0.0.1"
            port = resolve_port(h.get("port"), container)
            scheme = (h.get("scheme") or "HTTP").lower()
            path = h.get("path") or "/"
            headers = {x["name"]: x["value"] for x in h.get("httpHeaders") or []}
            headers.setdefault("User-Agent", "kube-probe/1.33")
            async with httpx.AsyncClient(verify=False, timeout=timeout) as c:
                r = await c.get(f"{scheme}://{host}:{port}{path}", headers=headers)
            if 200 <= r.status_code < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {r.status_code}"
        if "tcpSocket" in probe:
            t = probe["tcpSocket"]
            host = t.get("host") or pod_ip or "127.0.0.1"
            port = resolve_port(t.get("port"), container)
            _r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            w.close()
            return True, ""
        if "grpc" in probe:
            return False, "grpc probes are not supported by this node agent"
    except asyncio.TimeoutError:
        return False, f"probe timed out after {timeout:g}s"
    except (httpx.HTTPError, OSError, ValueError, PodmanError) as e:
        return False, str(e) or repr(e)
    return True, ""


class ProbeLoop:
    """Runs one probe forever; `on_result(kind, ok, message)` fires when the
    thresholded result changes, and on every failure (for Unhealthy events)."""

    def __init__(self, kind: str, probe: dict, container: dict, podman: Podman, cid: str, pod_ip: str,
                 on_result: Callable[[str, bool, str, bool], Awaitable[None] | None]):
        self.kind, self.probe, self.container = kind, probe, container
        self.podman, self.cid, self.pod_ip = podman, cid, pod_ip
        self.on_result = on_result
        # Liveness is healthy until proven otherwise; readiness and startup start False.
        self.result = kind == "liveness"
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._loop())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def _loop(self) -> None:
        p = self.probe
        period = max(1, int(p.get("periodSeconds", 10)))
        succ_needed = max(1, int(p.get("successThreshold", 1)))
        fail_needed = max(1, int(p.get("failureThreshold", 3)))
        await asyncio.sleep(int(p.get("initialDelaySeconds", 0)))
        succ = fail = 0
        while True:
            try:
                ok, msg = await run_probe(p, self.container, podman=self.podman, cid=self.cid, pod_ip=self.pod_ip)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a probe that cannot run has failed; the loop must go on
                log.debug("probe %s error: %r", self.kind, e)
                ok, msg = False, str(e) or repr(e)
            if ok:
                succ, fail = succ + 1, 0
                if not self.result and succ >= succ_needed:
                    self.result = True
                    await self._emit(True, "", False)
            else:
                fail, succ = fail + 1, 0
                flipped = fail >= fail_needed and (self.result or self.kind == "startup")
                if flipped:
                    self.result = False
                await self._emit(False, msg, flipped)
                if flipped and self.kind in ("liveness", "startup"):
                    return  # the worker restarts the container; a new loop follows
            if self.kind == "startup" and self.result:
                return  # startup probes stop once they succeed
            await asyncio.sleep(period)

    async def _emit(self, ok: bool, msg: str, flipped: bool) -> None:
        try:
            r = self.on_result(self.kind, ok, msg, flipped)
            if asyncio.iscoroutine(r):
                await r
        except Exception:
            log.exception("probe callback failed")
