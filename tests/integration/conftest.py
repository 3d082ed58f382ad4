"""Integration fixtures: one real API server process per test session, and clients for it.

  server            a `python -m pocketkube apiserver` on a free loopback port, over HTTPS
                    (.url, .kubeconfig, .data_dir, .token, .ca_file, .log())
  server_factory    start more servers (same or new data dir) for restart tests; stopped at the end
  kubectl           kubectl(*args, version="1.33", input=None, check=True) -> CompletedProcess
  kubectl_versions  installed kubectl versions, oldest first
  api_client        the official `kubernetes` client configured from the kubeconfig
  admin_http        an httpx.Client for hand-made requests: base URL, CA and admin token set
  namespace         a fresh namespace per test (deleted afterwards)

POCKETKUBE_TEST_BACKEND=etcd runs the session server on a throwaway etcd
(tests/etcd_cluster.py) instead of SQLite, so the whole suite checks that backend.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.harness import ServerProcess, kubectl_runner
from tests.harness import kubectl_versions as installed_kubectl_versions


@pytest.fixture(scope="session")
def session_backend_args():
    """Extra server flags for the chosen backend (and the etcd behind them, stopped at the end)."""
    backend = os.environ.get("POCKETKUBE_TEST_BACKEND", "sqlite")
    if backend == "sqlite":
        yield []
        return
    if backend != "etcd":
        pytest.fail(f"POCKETKUBE_TEST_BACKEND={backend!r}: want sqlite or etcd", pytrace=False)
    from tests.etcd_cluster import EtcdCluster

    cluster = EtcdCluster(1).start()
    try:
        yield ["--etcd-servers", cluster.client_urls[0]]
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory, session_backend_args):
    srv = ServerProcess(tmp_path_factory.mktemp("apiserver"), extra_args=list(session_backend_args))
    srv.start()
    try:
        srv.wait_ready()
    except RuntimeError as e:
        srv.stop()
        pytest.fail(str(e), pytrace=False)
    yield srv
    died = not srv.alive()
    code = srv.stop()
    if died:
        pytest.fail(f"the session API server died during the tests (exit code {code}); its log:\n{srv.log()}",
                    pytrace=False)


@pytest.fixture
def server_factory(tmp_path):
    """start(data_dir=None, extra_args=(), port=0, subcommand="apiserver") -> a ready ServerProcess;
    all are stopped after the test. subcommand="up" also runs controllers/node agent in-process."""
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, extra_args: list[str] | tuple = (), port: int = 0,
              subcommand: str = "apiserver") -> ServerProcess:
        srv = ServerProcess(Path(data_dir) if data_dir else tmp_path / f"apiserver-{len(started)}",
                            port=port, extra_args=list(extra_args), subcommand=subcommand)
        started.append(srv)
        srv.start()
        srv.wait_ready()
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def kubectl_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kubectl-home")


@pytest.fixture(scope="session")
def kubectl(server, kubectl_cache_dir):
    return kubectl_runner(server.kubeconfig, kubectl_cache_dir)


@pytest.fixture(scope="session")
def kubectl_versions() -> list[str]:
    return installed_kubectl_versions()


@pytest.fixture(scope="session")
def api_client(server):
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="session")
def admin_http(server):
    with server.http_client(timeout=60) as c:
        yield c


@pytest.fixture
def namespace(api_client) -> str:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    name = f"test-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as e:
        if e.status != 404:
            raise
