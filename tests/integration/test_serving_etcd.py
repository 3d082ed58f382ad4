"""The API server on etcd (--etcd-servers, TLS client certificates, --etcd-prefix): objects
survive a restart of the server, and two servers on one etcd see each other's writes."""
from __future__ import annotations

import shutil
import ssl

import httpx
import pytest

from tests.etcd_cluster import EtcdCluster

pytestmark = pytest.mark.etcd


@pytest.fixture(scope="module")
def etcd():
    if shutil.which("etcd") is None:
        pytest.skip("etcd not installed (run hack/setup-etcd.sh)")
    cluster = EtcdCluster(1, tls=True).start()
    yield cluster
    cluster.stop()


def _client(srv) -> httpx.Client:
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers={"Authorization": f"Bearer {srv.token}"}, timeout=30)


def test_state_lives_in_etcd(etcd, server_factory, tmp_path):
    flags = ["--etcd-servers", ",".join(etcd.client_urls), "--etcd-prefix", "/pk-serving-test",
             "--etcd-cafile", etcd.ca_file, "--etcd-certfile", etcd.client_cert, "--etcd-keyfile", etcd.client_key]
    a = server_factory(tmp_path / "a", flags)
    with _client(a) as c:
        r = c.post("/api/v1/namespaces/default/configmaps",
                   json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "in-etcd"}, "data": {"k": "v"}})
        assert r.status_code == 201, r.text
    # A second server with its own data dir (own certificates) on the same etcd sees it.
    b = server_factory(tmp_path / "b", flags)
    with _client(b) as c:
        assert c.get("/api/v1/namespaces/default/configmaps/in-etcd").json()["data"] == {"k": "v"}
    a.stop()
    assert a.proc.returncode == 0, a.log()
    again = server_factory(tmp_path / "a", flags)
    with _client(again) as c:
        assert c.get("/api/v1/namespaces/default/configmaps/in-etcd").status_code == 200
    assert not (tmp_path / "a" / "state.db").exists(), "with --etcd-servers nothing goes to SQLite"
