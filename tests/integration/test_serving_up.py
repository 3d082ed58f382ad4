"""`pocketkube up`: the API server with in-process controllers; Ctrl-C stops it cleanly."""
from __future__ import annotations

import signal
import time

from tests.harness import kubectl_runner


def test_up_runs_controllers_and_stops_on_ctrl_c(server_factory, tmp_path):
    srv = server_factory(subcommand="up", extra_args=["--no-nodeagent"])
    kubectl = kubectl_runner(srv.kubeconfig, tmp_path / "kubectl-home")
    # The service-account controller (in-process) gives every namespace its `default` account.
    deadline = time.monotonic() + 60
    while "default" not in kubectl("get", "serviceaccounts", "-n", "kube-public", "-o", "name").stdout:
        assert time.monotonic() < deadline, f"no default service account appeared:\n{srv.log()}"
        time.sleep(0.2)
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(30) == 0, srv.log()
    assert f"export KUBECONFIG={srv.kubeconfig.resolve()}" in srv.log()
