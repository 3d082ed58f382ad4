"""Shared by the controller and scheduler integration tests (no tests here):
a `pocketkube controllers` child process against the session API server, and a
poll helper. Tests never assert on time; they poll until a state is reached."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

FAST_FLAGS = ["--node-monitor-grace-period", "4s", "--node-monitor-period", "500ms",
              "--default-unreachable-toleration-seconds", "2", "--pod-gc-period", "1s",
              "--leader-elect-retry-period", "500ms", "--min-resync-period", "30s"]


class ControllersProcess:
    def __init__(self, kubeconfig: Path, log_dir: Path, *args: str, name: str = "controllers",
                 subcommand: str = "controllers"):
        self.log_path = log_dir / f"{name}.log"
        cmd = [sys.executable, "-m", "pocketkube", subcommand, "--kubeconfig", str(kubeconfig), *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)

    def log(self, tail: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


async def poll(check, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Call `check` (sync or async) until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_leader(kubeconfig: Path, identity: str, lease: str = "kube-controller-manager", timeout: float = 30.0) -> str:
    """Block until `identity` holds the lease (its controllers are running)."""
    async def holder():
        from kubeclient import ApiClient, ApiError
        from kubeclient.resources import LEASES
        async with ApiClient.from_kubeconfig(str(kubeconfig)) as c:
            async def check():
                try:
                    held = (await c.get(LEASES, lease, "kube-system"))["spec"].get("holderIdentity")
                    return held if held == identity else None
                except ApiError:
                    return None
            return await poll(check, timeout, 0.1, f"a holder of lease {lease}")
    return asyncio.run(holder())


@contextlib.contextmanager
def leading_controllers(kubeconfig: Path, log_dir: Path, *args: str, name: str = "controllers"):
    """A controllers process that holds the leader lease for the whole block."""
    import pytest
    ident = f"{name}-{uuid.uuid4().hex[:6]}"
    proc = ControllersProcess(kubeconfig, log_dir, "--identity", ident, *args, name=name)
    try:
        wait_leader(kubeconfig, ident)
    except AssertionError:
        proc.stop()
        pytest.fail(f"{name} never became leader:\n{proc.log()}")
    try:
        yield proc
    finally:
        proc.stop()


@contextlib.asynccontextmanager
async def simulated_cluster(kubeconfig: Path, renew_interval: float):
    """A client and simulated Nodes (with Leases); the nodes are deleted afterwards."""
    from nodeagent.simulated import SimulatedNodes
    from kubeclient import ApiClient, ApiError
    from kubeclient.resources import NODES
    client = ApiClient.from_kubeconfig(str(kubeconfig))
    sim = SimulatedNodes(client, renew_interval=renew_interval)
    sim.start()
    try:
        yield client, sim
    finally:
        await sim.stop()
        for name in sim.names:
            with contextlib.suppress(ApiError):
                await client.delete(NODES, name)
        await client.close()
