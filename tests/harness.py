"""Shared test helpers: start a real API server process, find kubectl binaries.

Import as `from tests.harness import ...` (tests/conftest.py puts the repo root
on sys.path). Used by the integration fixtures, and by e2e/controller tests
that need a server of their own.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port  # noqa: F401  (tests import it from here)


REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def one_worker(subcommand: str, args: list[str]) -> list[str]:
    """`--workers 1` for a server started without --workers. The API server defaults to one
    process per core; tests start many servers side by side on a 2-core CI machine, where
    each at one process starts faster and leaves the cores to the others. The worker
    tests (tests/integration/test_api_workers.py) ask for two."""
    if subcommand not in ("apiserver", "up") or any(a == "--workers" or a.startswith("--workers=") for a in args):
        return []
    return ["--workers", "1"]


def kubectl_dir() -> Path | None:
    """Where the versioned kubectl binaries sit (beside the dispatcher on PATH)."""
    explicit = os.environ.get("POCKETKUBE_KUBECTL_DIR")
    if explicit:
        return Path(explicit)
    found = shutil.which("kubectl")
    if not found:
        return None
    return Path(os.path.realpath(found)).parent


def kubectl_versions() -> list[str]:
    """Installed versions, oldest first: ["1.27", ..., "1.33"]."""
    d = kubectl_dir()
    if d is None:
        return []
    versions = [p.name.removeprefix("kubectl.") for p in d.glob("kubectl.1.*") if os.access(p, os.X_OK)]
    return sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


def kubectl_binary(version: str) -> Path | None:
    d = kubectl_dir()
    if d is None:
        return None
    p = d / f"kubectl.{version}"
    return p if p.exists() else None


@dataclass
class ServerProcess:
    """A `python -m pocketkube apiserver` (or `up`) child process on a loopback port."""

    data_dir: Path
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    subcommand: str = "apiserver"   # "up" runs controllers (and a node agent) in-process too
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    stopped_by_us: bool = False
    _auto_port: bool = field(default=False, repr=False)   # we picked the port, so may pick another

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    @property
    def token(self) -> str:
        """The admin's bearer token (tokens.csv; the admin kubeconfig carries a client certificate)."""
        for row in csv.reader(io.StringIO((self.data_dir / "tokens.csv").read_text())):
            if len(row) >= 2 and row[1] == "kubernetes-admin":
                return row[0]
        raise RuntimeError(f"no admin token in {self.data_dir / 'tokens.csv'}")

    @property
    def token_kubeconfig(self) -> Path:
        """The admin kubeconfig with the admin's bearer token instead of its client certificate:
        for `kubectl --token=...` (a client certificate would log in first, as upstream)."""
        import yaml

        cfg = yaml.safe_load(self.kubeconfig.read_text())
        cfg["users"][0]["user"] = {"token": self.token}
        path = self.data_dir / "admin-token.kubeconfig"
        path.write_text(yaml.safe_dump(cfg))
        path.chmod(0o600)
        return path

    def http_client(self, timeout: float = 30, **kw) -> "httpx.Client":
        """An httpx client of this server for hand-made requests: trusts its CA, sends
        the admin token (kw: http2=..., http1=...)."""
        import httpx

        return httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=str(self.ca_file)),
                            timeout=timeout, headers={"Authorization": f"Bearer {self.token}"}, **kw)

    def log(self, tail: int = 200) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-tail:])

    def start(self) -> "ServerProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self._auto_port = True
        if self._auto_port:
            self.port = free_port()
        self.log_path = self.data_dir / f"apiserver-{self.port}.log"
        cmd = [sys.executable, "-m", "pocketkube", self.subcommand, "--data-dir", str(self.data_dir),
               "--secure-port", str(self.port), *one_worker(self.subcommand, self.extra_args), *self.extra_args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("KUBECONFIG", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True)
        self.stopped_by_us = False
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> "ServerProcess":
        """Poll /readyz until 200; raise with the server's log if it dies or never gets ready."""
        deadline = time.monotonic() + timeout
        last = ""
        retries = 3
        while time.monotonic() < deadline:
            if not self.alive():
                # Another process on this machine took our free port between probe and bind: try another.
                if self._auto_port and retries and "cannot listen on" in self.log(5):
                    retries -= 1
                    self.start()
                    continue
                raise RuntimeError(f"API server exited with code {self.proc.returncode} before ready:\n{self.log()}")
            if self.ca_file.exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(self.ca_file))
                    with urllib.request.urlopen(f"{self.url}/readyz", context=ctx, timeout=2) as r:
                        if r.status == 200:
                            return self
                        last = f"HTTP {r.status}"
                except (urllib.error.URLError, OSError, ssl.SSLError) as e:
                    last = str(e)
            time.sleep(0.05)
        raise RuntimeError(f"API server not ready after {timeout}s ({last}):\n{self.log()}")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.stopped_by_us = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@contextlib.contextmanager
def running_server(data_dir: Path, *, port: int = 0, extra_args: list[str] | None = None,
                   subcommand: str = "apiserver"):
    """Start a server, wait for it, yield it, stop it (for restart tests and private servers)."""
    srv = ServerProcess(Path(data_dir), port=port, extra_args=list(extra_args or []), subcommand=subcommand)
    srv.start()
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


def kubectl_runner(kubeconfig: Path, cache_dir: Path):
    """A function running a given kubectl version against kubeconfig, with a private discovery cache."""

    def kubectl(*args: str, version: str = "1.33", input: str | bytes | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        binary = kubectl_binary(version)
        if binary is None:
            import pytest
            pytest.skip(f"kubectl {version} is not installed (looked beside `kubectl` on PATH)")
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env["HOME"] = str(cache_dir)  # nothing from the user's ~/.kube leaks in
        cmd = [str(binary), f"--kubeconfig={kubeconfig}", f"--cache-dir={cache_dir / version}", *args]
        text = not isinstance(input, bytes)
        cp = subprocess.run(cmd, input=input, capture_output=True, text=text, env=env, timeout=timeout)
        if check and cp.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {cp.returncode}\n"
                                 f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
        return cp

    return kubectl
