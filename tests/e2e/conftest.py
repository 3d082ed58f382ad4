"""e2e fixtures: a real API server, the controllers and a node agent, each its own
process, running real pods under Podman. Skips (with the plain reason) when
Podman cannot run a container here: run hack/setup-podman.sh first.

  cluster   .kubectl(*args, version=..), .server, .node, .agent (restartable), .api (Python client)
  ns        a fresh namespace per test
  net_cluster, net_ns   the same with the Service proxy and cluster DNS running (tests/e2e/network.py)
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, ServerProcess, kubectl_runner

CONF = REPO_ROOT / "hack" / "podman" / "containers.conf"
IMAGE = "localhost/busybox:latest"


def _podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, timeout=timeout)


def podman_problem() -> str | None:
    """None when podman runs containers here, else why not."""
    try:
        if not CONF.exists() and "CONTAINERS_CONF" not in os.environ:
            return "podman is not configured (run hack/setup-podman.sh)"
        info = _podman("info", "--format", "{{.Host.OCIRuntime.Name}}")
        if info.returncode != 0:
            return f"podman does not work here: {info.stderr.strip()[:200]}"
        if _podman("image", "exists", IMAGE).returncode != 0:
            return f"{IMAGE} is missing (run hack/setup-podman.sh)"
        cp = _podman("run", "--rm", IMAGE, "true")
        if cp.returncode != 0:
            return f"podman cannot run a container here: {cp.stderr.strip()[:200]}"
    except FileNotFoundError:
        return "podman is not installed (run hack/setup-podman.sh)"
    except subprocess.TimeoutExpired:
        return "podman did not answer within 60 s"
    return None


class Proc:
    """A `python -m pocketkube <component>` child, logging to a file."""

    def __init__(self, name: str, args: list[str], log: Path):
        self.name, self.args, self.log_path = name, args, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proc":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "pocketkube", *self.args], cwd=REPO_ROOT,
                                         stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log(self, tail: int = 80) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])


class Cluster:
    def __init__(self, server: ServerProcess, base: Path, node: str, agent_args: list[str] | None = None,
                 controller_args: list[str] | None = None):
        self.server, self.base, self.node = server, base, node
        self.kubectl = kubectl_runner(server.kubeconfig, base / "kubectl-home")
        self.controllers = Proc("controllers", ["controllers", "--kubeconfig", str(server.kubeconfig),
                                                *(controller_args or [])], base / "controllers.log")
        self.agent = Proc("nodeagent", ["nodeagent", "--kubeconfig", str(server.kubeconfig), "--node-name", node,
                                        "--root-dir", str(base / "node"), "--port", "0", *(agent_args or [])],
                                base / "nodeagent.log")

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def wait_for(self, what: str, check, timeout: float = 60, interval: float = 0.3):
        """Poll check() until it returns something truthy; fail with the agent's log."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = check()
            except AssertionError as e:  # kubectl failing while things settle
                last = e
            else:
                if last:
                    return last
            time.sleep(interval)
        pytest.fail(f"timed out waiting for {what} (last: {last!r})\nnode agent log:\n{self.agent.log()}")

    def wait_node_ready(self) -> None:
        def ready():
            node = self.get("node", self.node)
            return any(c["type"] == "Ready" and c["status"] == "True" for c in (node.get("status") or {}).get("conditions", []))
        self.wait_for(f"node {self.node} Ready", ready, timeout=60)


@contextlib.contextmanager
def running_cluster(base: Path, *, server_args: list[str] | None = None, agent_args: list[str] | None = None,
                    before_agent=None, controller_args: list[str] | None = None):
    """API server, controllers and node agent as processes; pods of its node removed after.
    before_agent(cluster) runs once the server is ready (e.g. to start a proxy and DNS)."""
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    (base / "kubectl-home").mkdir(exist_ok=True)
    server = ServerProcess(base / "apiserver", extra_args=list(server_args or []))
    server.start()
    c = None
    try:
        server.wait_ready()
        c = Cluster(server, base, f"e2e-{uuid.uuid4().hex[:6]}", agent_args=agent_args,
                    controller_args=controller_args)
        if before_agent is not None:
            before_agent(c)
        c.controllers.start()
        c.agent.start()
        c.wait_node_ready()
        yield c
    finally:
        try:
            if c is not None:
                c.agent.stop()
                c.controllers.stop()
                # Whatever the tests left running belongs to this session's node only.
                pods = _podman("pod", "ps", "-q", "--filter", f"label=io.pocketkube.node={c.node}").stdout.split()
                if pods:
                    _podman("pod", "rm", "-f", "-t", "0", *pods, timeout=120)
        except (subprocess.TimeoutExpired, OSError):
            pass  # best effort: never fail a session on cleanup
        finally:
            server.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    with running_cluster(tmp_path_factory.mktemp("e2e")) as c:
        yield c


@contextlib.contextmanager
def fresh_namespace(c: Cluster):
    name = f"t-{uuid.uuid4().hex[:8]}"
    c.kubectl("create", "namespace", name)
    # the service account controller must create "default" before pods are admitted
    c.wait_for("default service account", lambda: c.kubectl(
        "get", "serviceaccount", "default", "-n", name, check=False).returncode == 0, timeout=30)
    yield name
    # force: the agent kills the containers at once instead of waiting their grace
    c.kubectl("delete", "pods", "--all", "-n", name, "--grace-period=0", "--force", "--wait=false", check=False)
    c.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def ns(cluster):
    """a fresh namespace per test"""
    with fresh_namespace(cluster) as name:
        yield name


@pytest.fixture(scope="session")
def net_cluster(tmp_path_factory):
    """A cluster whose Services work: proxy and DNS running (tests/e2e/network.py)."""
    from tests.e2e.network import networked_cluster
    with networked_cluster(tmp_path_factory.mktemp("e2e-net")) as c:
        yield c


@pytest.fixture
def net_ns(net_cluster):
    with fresh_namespace(net_cluster) as name:
        yield name
