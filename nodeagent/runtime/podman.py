"""Podman through its REST API (libpod v4) over a unix socket.

The API is used rather than the CLI because a container start costs ~0.1 s
through it against ~0.24 s for a `podman` process (shared/environment.md).
The agent starts its own `podman system service` so it never depends on a
socket someone else manages.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import struct
from dataclasses import dataclass
from typing import Any

import httpx

from . import leftovers
from .ordered import RANK, OrderedGate

log = logging.getLogger(__name__)

API = "http://podman/v4.0.0/libpod"

# The machine's sandbox caps open files at 20000; passing any rlimit replaces the
# containers.conf defaults, so both are always passed together.
RLIMITS = [
    {"type": "nofile", "soft": 20000, "hard": 20000},
    {"type": "nproc", "soft": 20000, "hard": 20000},
]

# How many pod-start calls (sandbox and container create/start) go to Podman at once
# (ordered.py). Measured on 2 cores with 30 pods at once (README, bench_pod_start.py).
START_CALLS_AT_ONCE = int(os.environ.get("POCKETKUBE_PODMAN_START_CALLS", "3"))


@dataclass(frozen=True)
class Process:
    """A command line to run as a child process, and the environment it needs."""
    argv: list[str]
    env: dict[str, str]


def _outcome_seen(task: asyncio.Task) -> None:
    """A shielded call whose caller was cancelled (the agent stopping) may still fail,
    e.g. when the Podman service stops first: its error is logged here, not left for
    asyncio to report as never retrieved."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("podman call finished after its caller left: %r", task.exception())


class PodmanError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def default_containers_conf() -> str | None:
    """The project's containers.conf written by hack/setup-podman.sh."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "hack", "podman", "containers.conf")
    return os.path.normpath(path) if os.path.exists(path) else None


def podman_env() -> dict[str, str]:
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env:
        conf = default_containers_conf()
        if conf:
            env["CONTAINERS_CONF"] = conf
    return env


def podman_usable() -> str | None:
    """None when podman can be used here, else the plain reason it cannot."""
    if shutil.which("podman") is None:
        return "podman is not installed (run hack/setup-podman.sh)"
    if "CONTAINERS_CONF" not in podman_env():
        return "no containers.conf (run hack/setup-podman.sh)"
    return None


class SocketTaken(Exception):
    """Another live node agent uses this Podman socket."""
    plain_message = True   # a set-up error: its text says it all, no traceback


class Podman:
    """`owner` labels (the node and the cluster's identity) go on everything this agent
    creates and into every list it makes: agents sharing one host's Podman (same node
    name, other clusters) never see, sweep or stop each other's pods."""

    def __init__(self, socket_path: str, owner: dict[str, str] | None = None):
        self.socket_path = socket_path
        self.owner = dict(owner or {})
        self._lock_fd: int | None = None
        self._service: asyncio.subprocess.Process | None = None
        self._adopted_pid = 0
        self._inflight: set[asyncio.Future] = set()
        self._starts = OrderedGate(START_CALLS_AT_ONCE)
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=socket_path),
            base_url=API,
            timeout=httpx.Timeout(120.0),
        )

    # -- service lifecycle -------------------------------------------------
    @property
    def _pidfile(self) -> str:
        return self.socket_path + ".pid"

    def _lock_socket(self) -> None:
        """Hold the socket's lock file for the agent's life: a second agent for the same
        node and cluster is refused, plainly, instead of taking over the service."""
        if self._lock_fd is not None:
            return
        os.makedirs(os.path.dirname(self.socket_path) or ".", exist_ok=True)
        fd = os.open(self.socket_path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SocketTaken(f"the Podman socket {self.socket_path} is in use by another node agent "
                              "(same node name and cluster); give this one another --node-name") from None
        self._lock_fd = fd

    async def start_service(self) -> None:
        """Start `podman system service` on our socket unless one answers there.

        A service left by an agent that was killed is adopted (its pid file says
        which process it is) so this agent stops it on the way out."""
        self._lock_socket()
        if await self._ping():
            try:
                with open(self._pidfile) as f:
                    pid = int(f.read().strip())
                with open(f"/proc/{pid}/cmdline", "rb") as f:  # guard against pid reuse
                    if self.socket_path.encode() in f.read():
                        self._adopted_pid = pid
            except (OSError, ValueError):
                pass
            return
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        os.makedirs(os.path.dirname(self.socket_path) or ".", exist_ok=True)
        self._service = await asyncio.create_subprocess_exec(
            "podman", "system", "service", "--time=0", f"unix://{self.socket_path}",
            env=podman_env(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        with open(self._pidfile, "w") as f:
            f.write(str(self._service.pid))
        for _ in range(200):
            if await self._ping():
                return
            if self._service.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise PodmanError(503, "podman system service did not come up")

    async def supervise(self, interval: float = 5.0) -> None:
        """Restart the Podman service when it stops answering (it died, or was killed):
        without it every pod operation fails."""
        while True:
            await asyncio.sleep(interval)
            if await self._ping():
                continue
            log.warning("podman service on %s is not answering: restarting it", self.socket_path)
            if self._service is not None and self._service.returncode is None:
                self._service.kill()
                await self._service.wait()
            self._service, self._adopted_pid = None, 0
            try:
                await self.start_service()
            except (PodmanError, OSError) as e:
                log.error("podman service restart failed: %s", e)

    async def close(self) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=20)
        await self._http.aclose()
        if self._adopted_pid:
            try:
                os.kill(self._adopted_pid, 15)
            except ProcessLookupError:
                pass
        owned = bool(self._adopted_pid or self._service)
        if self._service and self._service.returncode is None:
            self._service.terminate()
            try:
                await asyncio.wait_for(self._service.wait(), 5)
            except asyncio.TimeoutError:
                self._service.kill()
                await self._service.wait()
        if self._lock_fd is not None:
            if owned and leftovers.service_pid(self.socket_path) is None:
                # our service has stopped: its socket and pid file would only be litter
                leftovers.remove(self.socket_path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.socket_path + ".lock")
            os.close(self._lock_fd)
            self._lock_fd = None

    async def _ping(self) -> bool:
        try:
            r = await self._http.get("http://podman/_ping", timeout=2)
            return r.status_code == 200
        except (httpx.TransportError, OSError):
            return False

    # -- plumbing ----------------------------------------------------------
    async def _call(self, method: str, path: str, *, ok=(200, 201, 204, 304), absent=(), start_step=False,
                    **kw) -> Any:
        """The decoded answer; None when the status is one of `absent` (the object
        is not there, or no longer running: nothing to inspect, stop or remove).
        start_step: a step of a pod's start, let through in the pod's turn (ordered.py)."""
        rank = RANK.get() if start_step else None
        if rank is None:
            return await self._call_now(method, path, ok=ok, absent=absent, **kw)
        await self._starts.acquire(rank)
        try:
            return await self._call_now(method, path, ok=ok, absent=absent, **kw)
        finally:
            self._starts.release()

    async def _call_now(self, method: str, path: str, *, ok, absent, **kw) -> Any:
        if method == "GET":
            r = await self._http.request(method, path, **kw)
        else:
            # A change the service has started must finish even if our caller is
            # cancelled (agent shutdown): a removal cut short leaves a broken pod.
            task = asyncio.ensure_future(self._http.request(method, path, **kw))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(_outcome_seen)
            r = await asyncio.shield(task)
        if r.status_code in absent:
            return None
        if r.status_code not in ok:
            try:
                body = r.json()
                msg = body.get("message") or body.get("cause") or r.text
            except ValueError:
                msg = r.text
            raise PodmanError(r.status_code, msg)
        if not r.content:
            return None
        if r.headers.get("content-type", "").startswith("application/json"):
            return r.json()
        return r.content

    # -- system and images -------------------------------------------------
    async def version(self) -> str:
        v = await self._call("GET", "/version")
        return v.get("Version") or v["Components"][0]["Version"]

    async def info(self) -> dict:
        return await self._call("GET", "/info")

    async def images(self) -> list[dict]:
        return await self._call("GET", "/images/json") or []

    async def image_inspect(self, ref: str) -> dict | None:
        return await self._call("GET", f"/images/{ref}/json", absent=(404,))

    async def image_pull(self, ref: str) -> None:
        """Pull errors come back as a 200 whose JSON stream carries an "error" member."""
        raw = await self._call("POST", "/images/pull", params={"reference": ref, "quiet": "true"})
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else json.dumps(raw or {})
        for line in text.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("error"):
                raise PodmanError(502, msg["error"])

    # -- pods (sandboxes) --------------------------------------------------
    def _owned(self, spec: dict) -> dict:
        return {**spec, "labels": {**(spec.get("labels") or {}), **self.owner}}

    def _filters(self, labels: dict[str, str]) -> str:
        return json.dumps({"label": [f"{k}={v}" for k, v in {**labels, **self.owner}.items()]})

    async def pod_create(self, spec: dict) -> str:
        return (await self._call("POST", "/pods/create", json=self._owned(spec), start_step=True))["Id"]

    async def pod_start(self, pod: str) -> None:
        await self._call("POST", f"/pods/{pod}/start", start_step=True)

    async def pod_inspect(self, pod: str) -> dict | None:
        return await self._call("GET", f"/pods/{pod}/json", absent=(404,))

    async def pod_remove(self, pod: str) -> None:
        await self._call("DELETE", f"/pods/{pod}", params={"force": "true"}, absent=(404,))

    async def pod_list(self, labels: dict[str, str]) -> list[dict]:
        return await self._call("GET", "/pods/json", params={"filters": self._filters(labels)}) or []

    # -- containers --------------------------------------------------------
    async def container_create(self, spec: dict) -> str:
        return (await self._call("POST", "/containers/create", json=self._owned(spec), start_step=True))["Id"]

    async def container_start(self, cid: str) -> None:
        await self._call("POST", f"/containers/{cid}/start", start_step=True)

    async def container_stop(self, cid: str, timeout: int) -> None:
        await self._call("POST", f"/containers/{cid}/stop", params={"timeout": str(timeout)},
                         timeout=timeout + 30, absent=(404,))

    async def container_kill(self, cid: str, signal: str = "KILL") -> None:
        await self._call("POST", f"/containers/{cid}/kill", params={"signal": signal}, absent=(404, 409))

    async def container_remove(self, cid: str) -> None:
        await self._call("DELETE", f"/containers/{cid}", params={"force": "true", "v": "true"}, absent=(404,))

    async def container_inspect(self, cid: str) -> dict | None:
        return await self._call("GET", f"/containers/{cid}/json", absent=(404,))

    async def container_list(self, labels: dict[str, str]) -> list[dict]:
        return await self._call("GET", "/containers/json",
                                params={"all": "true", "filters": self._filters(labels)}) or []

    async def container_stats(self, cids: list[str]) -> list[dict]:
        """One reading per running container: CPUNano (CPU time used, ns), MemUsage (working set, bytes)."""
        if not cids:
            return []
        answer = await self._call("GET", "/containers/stats", params=[("stream", "false")]
                                  + [("containers", c) for c in cids]) or {}
        if isinstance(answer, bytes):   # this endpoint does not always say it is JSON
            answer = json.loads(answer)
        return answer.get("Stats") or []

    async def exec_run(self, cid: str, cmd: list[str], timeout: float) -> tuple[int, bytes]:
        """Run a command in a container, wait for it; (exit code, combined output).

        Used by exec probes and postStart/preStop hooks; interactive exec goes
        through the CLI (`exec_process`) because it needs a live stdin.
        """
        ex = await self._call("POST", f"/containers/{cid}/exec", json={
            "Cmd": cmd, "AttachStdout": True, "AttachStderr": True})
        eid = ex["Id"]
        raw = await asyncio.wait_for(
            self._call("POST", f"/exec/{eid}/start", json={"Detach": False}, timeout=timeout + 5),
            timeout)
        out = demux(raw or b"")
        info = await self._call("GET", f"/exec/{eid}/json")
        return int(info.get("ExitCode") or 0), out


    # -- interactive processes (kubectl exec / attach) ---------------------
    # These run as `podman` CLI processes that the kubelet API wires to a
    # WebSocket: a live stdin and a terminal (resized by SIGWINCH) are simpler
    # through a child process on a pty than through the REST API's hijacked stream.
    def exec_process(self, cid: str, command: list[str], *, stdin: bool, tty: bool) -> Process:
        argv = ["podman", "exec"] + (["-i"] if stdin else []) + (["-t"] if tty else []) + [cid, *command]
        return Process(argv, podman_env())

    def attach_process(self, cid: str, *, stdin: bool) -> Process:
        argv = ["podman", "attach", "--sig-proxy=false"] + ([] if stdin else ["--no-stdin"]) + [cid]
        return Process(argv, podman_env())


def demux(raw: bytes) -> bytes:
    """Join the payloads of Docker's multiplexed stream (8-byte frame headers)."""
    out = bytearray()
    i = 0
    while i + 8 <= len(raw):
        size = struct.unpack(">I", raw[i + 4:i + 8])[0]
        out += raw[i + 8:i + 8 + size]
        i += 8 + size
    return bytes(out) if i else raw


async def container_events(pm: Podman):
    """Yield (event status, labels) for every container event, forever.

    Workers wake on `died` instead of polling tight loops."""
    flt = json.dumps({"type": ["container"]})
    async with pm._http.stream("GET", "/events", params={"stream": "true", "filters": flt},
                               timeout=httpx.Timeout(10.0, read=None)) as r:
        async for line in r.aiter_lines():
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            yield ev.get("status") or ev.get("Action", ""), (ev.get("Actor") or {}).get("Attributes") or {}
