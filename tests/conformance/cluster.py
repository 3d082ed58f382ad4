"""Starting a fresh pocketkube for the suite, and running stock kubectl against a cluster."""
from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.harness import one_worker
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]


def _ready(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url + "/readyz", context=ctx, timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


def podman_usable() -> bool:
    """Pods can run here: podman answers with the project's configuration."""
    if not shutil.which("podman"):
        return False
    try:
        return subprocess.run(["podman", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _remove_pods_of(node: str) -> None:
    """Pods the node agent was still running when the cluster stopped."""
    listed = subprocess.run(["podman", "pod", "ls", "-q", "--filter", f"label=io.pocketkube.node={node}"],
                            capture_output=True, text=True)
    ids = listed.stdout.split()
    if ids:
        subprocess.run(["podman", "pod", "rm", "-f", *ids], capture_output=True)


def _wait_node_ready(kubeconfig: Path, node: str, deadline: float) -> None:
    """The node agent's node Ready before the first row: rows needing pods skip on a cluster
    without a Ready node, and the agent registers a moment after the API server is up."""
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        core = client.CoreV1Api(api)
        while time.monotonic() < deadline:
            try:
                conditions = core.read_node(node).status.conditions or []
                if any(c.type == "Ready" and c.status == "True" for c in conditions):
                    return
            except client.ApiException:
                pass  # not registered yet
            time.sleep(0.2)
    finally:
        api.close()


@contextlib.contextmanager
def fresh_pocketkube(data_dir: Path, *, timeout: float = 60.0, extra_args: list[str] | tuple[str, ...] = ()):
    """`pocketkube up` on a new data dir: API server, scheduler and controllers, and a
    node agent when Podman works here. Yields the admin kubeconfig path; stops it after.
    Its output is in data_dir/pocketkube.log; extra_args go to `pocketkube up`."""
    port = free_port()
    node = f"conformance-{port}"
    with_pods = podman_usable()
    log = open(data_dir / "pocketkube.log", "wb")
    cmd = [sys.executable, "-m", "pocketkube", "up", "--data-dir", str(data_dir),
           "--secure-port", str(port),
           # compaction as upstream does it, but often, so the compacted-continue row runs in seconds
           "--etcd-compaction-interval", "5s",
           # the cluster DNS answers the cluster's names only: no query leaves this machine
           "--dns-upstream", "none", "--dns-port", "0",
           # the status lifecycle row writes LoadBalancer status itself, as a cloud's controller would
           "--no-service-lb",
           # a service range of its own: clusters side by side on one host do not share ClusterIPs
           "--service-cluster-ip-range", f"10.{random.randint(100, 250)}.0.0/16"]
    # a kubelet port of its own too (two suites at once on one host would otherwise share 10250):
    # 0, any free one, which the node agent binds at once and reports in its Node's status
    cmd += ["--node-name", node, "--kubelet-port", "0"] if with_pods else ["--no-nodeagent"]
    cmd += one_worker("up", list(extra_args)) + list(extra_args)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _ready(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pocketkube did not become ready:\n" + (data_dir / "pocketkube.log").read_text()[-4000:])
            time.sleep(0.2)
        if with_pods:
            _wait_node_ready(data_dir / "admin.kubeconfig", node, deadline + timeout)
        yield data_dir / "admin.kubeconfig"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if with_pods:
            _remove_pods_of(node)


def kubectl_binary(version: str = "1.33") -> str | None:
    dispatcher = shutil.which("kubectl")
    if dispatcher:
        candidate = Path(os.path.realpath(dispatcher)).parent / f"kubectl.{version}"
        if candidate.exists():
            return str(candidate)
    return None


class Kubectl:
    """Stock kubectl against the suite's cluster, with a private discovery cache."""

    def __init__(self, kubeconfig, cache_dir: Path, version: str = "1.33"):
        self.kubeconfig = str(kubeconfig)
        self.cache_dir = str(cache_dir)
        self.binary = kubectl_binary(version) or shutil.which("kubectl")

    def __call__(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60):
        if not self.binary:
            import pytest
            pytest.skip("no kubectl binary on this machine")
        cmd = [self.binary, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir, *args]
        done = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    def popen(self, *args: str) -> subprocess.Popen:
        cmd = [self.binary, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir, *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
