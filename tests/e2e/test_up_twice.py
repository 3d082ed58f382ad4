"""`pocketkube up` twice on one host (issue 20): two single-node clusters, each given its
own ports, node name and service range, run side by side; each runs its own pod on real
Podman, and stopping one leaves the other's pod running."""
from __future__ import annotations

import random
import time
import uuid
from contextlib import ExitStack

import pytest

from tests.e2e.conftest import IMAGE, podman_problem
from tests.harness import kubectl_runner, running_server


def _up_args(node: str, second_octet: int) -> list[str]:
    # kubelet port 0: the node agent binds any free one at once and reports it in its Node's
    # status (a port probed here and bound seconds later could be taken by then)
    return ["--node-name", node, "--kubelet-port", "0", "--dns-upstream", "none",
            "--dns-port", "0", "--no-service-lb", "--metrics-bind-address", "127.0.0.1:0",
            "--service-cluster-ip-range", f"10.{second_octet}.0.0/16"]


def _phase(kubectl, name: str) -> str:
    cp = kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}/{.spec.nodeName}", check=False)
    return cp.stdout.strip() if cp.returncode == 0 else ""


def _wait_running(kubectl, name: str, node: str, srv, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while _phase(kubectl, name) != f"Running/{node}":
        assert time.monotonic() < deadline, f"pod {name} never Running on {node}\n{srv.log(40)}"
        time.sleep(0.5)


def test_two_up_clusters_side_by_side(tmp_path):
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    octets = random.sample(range(100, 250), 2)
    clusters = []
    with ExitStack() as stack:
        for i in range(2):
            node = f"twice{i}-{uuid.uuid4().hex[:6]}"
            srv = stack.enter_context(running_server(tmp_path / f"c{i}", extra_args=_up_args(node, octets[i]),
                                                     subcommand="up"))
            (tmp_path / f"home{i}").mkdir()
            clusters.append((srv, node, kubectl_runner(srv.kubeconfig, tmp_path / f"home{i}")))
        for srv, node, kubectl in clusters:
            kubectl("run", "mine", f"--image={IMAGE}", "--restart=Never", "--", "sleep", "3600")
        for srv, node, kubectl in clusters:
            _wait_running(kubectl, "mine", node, srv)
            nodes = kubectl("get", "nodes", "-o", "name").stdout.split()
            assert nodes == [f"node/{node}"], nodes   # each cluster sees only its own node
        first, second = clusters
        first[0].stop()
        time.sleep(5)   # the stopped cluster's agent would have removed what it took for its own by now
        assert _phase(second[2], "mine") == f"Running/{second[1]}"
        second[2]("delete", "pod", "mine", "--wait=true", "--timeout=60s")
