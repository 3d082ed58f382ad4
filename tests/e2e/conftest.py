"""e2e fixtures: a real API server, the controllers and a node agent, each its own
process, running real pods under Podman. Skips (with the plain reason) when
Podman cannot run a container here: run hack/setup-podman.sh first.

  cluster          one node: .kubectl(*args, version=..), .server, .node, .agent (restartable), .get
  ns               a fresh namespace per test
  net_cluster, net_ns   the same with the Service proxy and cluster DNS running (tests/e2e/network.py)
  running_cluster  a cluster of any number of nodes, with extra flags (test_cluster_two_nodes.py: two)
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
import yaml

from tests.harness import REPO_ROOT, ServerProcess, kubectl_runner

CONF = REPO_ROOT / "hack" / "podman" / "containers.conf"
IMAGE = "localhost/busybox:latest"
NODE_LABEL = "io.pocketkube.node"


def run_podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, timeout=timeout)


def podman_problem() -> str | None:
    """None when podman runs containers here, else why not."""
    try:
        if not CONF.exists() and "CONTAINERS_CONF" not in os.environ:
            return "podman is not configured (run hack/setup-podman.sh)"
        info = run_podman("info", "--format", "{{.Host.OCIRuntime.Name}}")
        if info.returncode != 0:
            return f"podman does not work here: {info.stderr.strip()[:200]}"
        if run_podman("image", "exists", IMAGE).returncode != 0:
            return f"{IMAGE} is missing (run hack/setup-podman.sh)"
        cp = run_podman("run", "--rm", IMAGE, "true")
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


def component_tokens(nodes: list[str]) -> dict[str, tuple[str, str]]:
    """user -> (token, groups) for the identities the cluster's components run as."""
    users = {f"system:node:{n}": "system:nodes" for n in nodes}
    # without --use-service-account-credentials every controller writes as the manager: the
    # group that may (apiserver/assembly/rbac_component_roles.py)
    users["system:kube-controller-manager"] = "pocketkube:shared-controller-credentials"
    return {u: (uuid.uuid4().hex, g) for u, g in users.items()}


def write_token_file(path: Path, tokens: dict[str, tuple[str, str]]) -> Path:
    path.write_text("".join(f'{tok},{user},{user},"{groups}"\n' for user, (tok, groups) in tokens.items()))
    return path


def kubeconfig_as(admin_kubeconfig: Path, token: str, path: Path) -> Path:
    """The admin kubeconfig's cluster, with a bearer token as the user."""
    import yaml
    cfg = yaml.safe_load(admin_kubeconfig.read_text())
    for u in cfg["users"]:
        u["user"] = {"token": token}
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


class Cluster:
    """One API server, one `pocketkube controllers` and a node agent per node name,
    each its own process. Agents on one machine share its Podman and tell their
    pods apart by the io.pocketkube.node label. With `tokens` (component_tokens),
    each runs as itself (system:node:<name>, system:kube-controller-manager), so
    the Node authorizer, NodeRestriction and RBAC hold them to their own rights."""

    def __init__(self, server: ServerProcess, base: Path, nodes: list[str], controller_args: list[str] = (),
                 agent_args: list[str] = (), tokens: dict[str, tuple[str, str]] | None = None):
        self.server, self.base, self.nodes = server, base, nodes
        self.node = nodes[0]
        self.kubectl = kubectl_runner(server.kubeconfig, base / "kubectl-home")

        def kubeconfig(user: str) -> Path:
            if not tokens or user not in tokens:
                return server.kubeconfig
            return kubeconfig_as(server.kubeconfig, tokens[user][0], base / f"{user.replace(':', '-')}.kubeconfig")
        self.controllers = Proc("controllers", ["controllers", "--kubeconfig",
                                                str(kubeconfig("system:kube-controller-manager")),
                                                *controller_args], base / "controllers.log")
        self.agents = {n: Proc("nodeagent", ["nodeagent", "--kubeconfig", str(kubeconfig(f"system:node:{n}")),
                                              "--node-name", n,
                                              "--root-dir", str(base / n), "--port", "0", *agent_args],
                               base / f"{n}.log")
                       for n in nodes}
        self.agent = self.agents[self.node]

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def run_shell_pod(self, ns: str, name: str, script: str) -> str:
        """`kubectl run` a busybox pod running `sh -c script`; its name once it is Running."""
        self.kubectl("run", name, "-n", ns, f"--image={IMAGE}", "--", "sh", "-c", script)
        self.wait_for(f"{name} Running", lambda: self.get("pod", name, "-n", ns)["status"].get("phase") == "Running")
        return name

    def pods(self, ns: str, selector: str) -> list[dict]:
        return self.get("pods", "-n", ns, "-l", selector)["items"]

    def logs(self) -> str:
        parts = [f"--- controllers:\n{self.controllers.log(40)}"]
        parts += [f"--- node agent {n}:\n{a.log(80 if len(self.agents) == 1 else 30)}" for n, a in self.agents.items()]
        return "\n".join(parts)

    def wait_for(self, what: str, check, timeout: float = 60, interval: float = 0.3):
        """Poll check() until it returns something truthy; fail with every component's log."""
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
        pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})\n{self.logs()}")

    def node_ready(self, name: str) -> str | None:
        node = self.get("node", name)
        for c in (node.get("status") or {}).get("conditions") or []:
            if c["type"] == "Ready":
                return c["status"]
        return None

    def wait_node_ready(self) -> None:
        for n in self.nodes:
            self.wait_for(f"node {n} Ready", lambda n=n: self.node_ready(n) == "True")

    def remove_podman_pods(self) -> None:
        """Whatever the tests left running belongs to this cluster's nodes only."""
        for node in self.nodes:
            pods = run_podman("pod", "ps", "-q", "--filter", f"label={NODE_LABEL}={node}").stdout.split()
            if pods:
                run_podman("pod", "rm", "-f", "-t", "0", *pods, timeout=120)


@contextlib.contextmanager
def running_cluster(base: Path, nodes: list[str] | None = None, *, server_args: list[str] = (),
                    controller_args: list[str] = (), agent_args: list[str] = (), before_agent=None):
    """Start a Cluster (one node unless `nodes` names them), wait until its nodes are
    Ready; stop it and remove its pods on the way out, even on failure. Skips when
    Podman cannot run a container here. before_agent(cluster) runs once the server
    is ready (e.g. to start a proxy and DNS)."""
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    (base / "kubectl-home").mkdir(exist_ok=True)
    nodes = nodes or [f"e2e-{uuid.uuid4().hex[:6]}"]
    # the components run as themselves, under the default Node,RBAC authorization
    tokens = component_tokens(nodes)
    server_args = [*(server_args or ()), "--token-auth-file", str(write_token_file(base / "tokens.csv", tokens))]
    server = ServerProcess(base / "apiserver", extra_args=server_args)
    server.start()
    c = None
    try:
        server.wait_ready()
        c = Cluster(server, base, nodes, list(controller_args or ()), list(agent_args or ()), tokens=tokens)
        if before_agent is not None:
            before_agent(c)
        c.controllers.start()
        for agent in c.agents.values():
            agent.start()
        c.wait_node_ready()
        yield c
    finally:
        try:
            if c is not None:
                for agent in c.agents.values():
                    agent.stop()
                c.controllers.stop()
                c.remove_podman_pods()
        except (subprocess.TimeoutExpired, OSError):
            pass  # best effort: never fail a session on cleanup
        finally:
            server.stop()


def pod_manifest(name: str, *containers: dict, restart_policy: str | None = "Never", **spec) -> str:
    """One pod's YAML for `kubectl apply -f -` (several joined by "---\\n"): these containers,
    restartPolicy Never unless told (None: the API's default, Always), other spec fields as given."""
    spec = {**({"restartPolicy": restart_policy} if restart_policy else {}), **spec, "containers": list(containers)}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec},
                          sort_keys=False)


@contextlib.contextmanager
def fresh_namespace(c: Cluster, prefix: str = "t"):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    c.kubectl("create", "namespace", name)
    # the service account controller must create "default" before pods are admitted
    c.wait_for("default service account", lambda: c.kubectl(
        "get", "serviceaccount", "default", "-n", name, check=False).returncode == 0, timeout=30)
    yield name
    # force: the agent kills the containers at once instead of waiting their grace
    c.kubectl("delete", "pods", "--all", "-n", name, "--grace-period=0", "--force", "--wait=false", check=False)
    c.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    with running_cluster(tmp_path_factory.mktemp("e2e")) as c:
        yield c


@pytest.fixture
def ns(cluster):
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

