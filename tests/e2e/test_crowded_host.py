"""A crowded host (issue 20): two clusters whose node agents share a node name on one
machine's Podman leave each other's pods, Podman service and ports alone; an agent
refuses plainly to start on a taken kubelet port or Podman socket; a Podman service
that dies is restarted."""
from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

from kubeclient.kubeconfig import load_kubeconfig
from nodeagent.runtime.labels import cluster_identity
from tests.e2e.conftest import fresh_namespace, run_podman, running_cluster
from tests.harness import REPO_ROOT

CLUSTER_LABEL = "io.pocketkube.cluster"
SCRIPT = "trap 'exit 0' TERM; sleep 3600 & wait"
SWEEP_PERIOD = 3   # the agents' orphan sweep, often: the test watches several go by
AGENT_ARGS = ["--orphan-sweep-period", f"{SWEEP_PERIOD}s"]


def _running_unrestarted(c, ns: str) -> bool:
    pod = c.get("pod", "mine", "-n", ns)
    statuses = pod["status"].get("containerStatuses") or []
    return pod["status"].get("phase") == "Running" and all(s["restartCount"] == 0 for s in statuses)


def _agent(kubeconfig, node: str, root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketkube", "nodeagent", "--kubeconfig", str(kubeconfig),
                           "--node-name", node, "--root-dir", str(root), *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_two_clusters_sharing_a_node_name_on_one_host(tmp_path):
    node = f"shared-{uuid.uuid4().hex[:6]}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_cluster(tmp_path / "a", [node], agent_args=AGENT_ARGS) as a, fresh_namespace(a) as ns_a:
        a.run_shell_pod(ns_a, "mine", SCRIPT)
        # b's agent starts (and sweeps its orphans) while a's pod runs
        with running_cluster(tmp_path / "b", [node], agent_args=AGENT_ARGS) as b, fresh_namespace(b) as ns_b:
            b.run_shell_pod(ns_b, "mine", SCRIPT)

            sockets = glob.glob(f"/run/pocketkube/podman-{node}-*.sock")
            assert len(sockets) == 2, sockets   # a Podman service (and socket) per cluster
            listed = json.loads(run_podman("pod", "ps", "--format", "json",
                                           "--filter", f"label=io.pocketkube.node={node}").stdout or "[]")
            assert len({p["Labels"][CLUSTER_LABEL] for p in listed}) == 2, listed

            # A second agent for a's node and cluster is refused: the socket is a's agent's.
            second = _agent(a.server.kubeconfig, node, tmp_path / "second", "--port", "0")
            assert second.returncode == 1 and "in use by another node agent" in second.stderr, second.stderr

            # A kubelet port held by another process is refused, not advertised.
            with socket.socket() as holder:
                holder.bind(("127.0.0.1", 0))
                holder.listen()
                port = holder.getsockname()[1]
                taken = _agent(a.server.kubeconfig, f"{node}-x", tmp_path / "taken", "--address", "127.0.0.1",
                               "--port", str(port))
            assert taken.returncode == 1 and f"kubelet port 127.0.0.1:{port} is taken" in taken.stderr, taken.stderr

            # a's Podman service dies: its agent starts it again.
            cfg = load_kubeconfig(str(a.server.kubeconfig))
            sock_a = f"/run/pocketkube/podman-{node}-{cluster_identity(cfg.ca_pem, cfg.server)}.sock"
            assert sock_a in sockets
            old = _pid(sock_a)
            os.kill(old, signal.SIGKILL)
            a.wait_for("the Podman service restarted", lambda: _pid(sock_a) not in (None, old), timeout=60)

            # Each agent sweeps orphans every SWEEP_PERIOD: past several, both pods still run.
            deadline = time.monotonic() + 4 * SWEEP_PERIOD
            while time.monotonic() < deadline:
                assert _running_unrestarted(a, ns_a), a.logs()
                assert _running_unrestarted(b, ns_b), b.logs()
                time.sleep(1)
            assert "removing orphaned runtime pod" not in a.agent.log(100000) + b.agent.log(100000)
    # Both agents stopped cleanly: their sockets, pid files and locks went with them.
    assert glob.glob(f"/run/pocketkube/podman-{node}-*") == []


def _pid(sock: str) -> int | None:
    try:
        pid = int(open(sock + ".pid").read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None
