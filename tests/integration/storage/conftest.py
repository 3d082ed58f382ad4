"""Backends for the Store contract suite: every test runs against each of them.

`make_store` (a factory fixture) builds the backend under test and reopens it on
the same data (a file, or an etcd prefix) for persistence tests. The etcd
variants share one session etcd (tests/etcd_cluster.py), each test under its own
key prefix; they skip when etcd is not installed (hack/setup-etcd.sh).
"""
from __future__ import annotations

import itertools
import shutil

import pytest

from apiserver.storage.cache import CachedStore
from apiserver.storage.sqlite import SQLiteStore

# shared-sqlite: the store as each API server worker opens it (following the log table)
BACKENDS = ["sqlite", "shared-sqlite", "cached-sqlite", "etcd", "cached-etcd"]
_prefixes = itertools.count()


@pytest.fixture(scope="session")
def etcd_endpoint():
    if shutil.which("etcd") is None:
        pytest.skip("etcd not installed (run hack/setup-etcd.sh)")
    from tests.etcd_cluster import EtcdCluster

    cluster = EtcdCluster(members=1)
    cluster.start()
    try:
        yield cluster.client_urls[0]
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    if "etcd" in request.param:
        request.node.add_marker(pytest.mark.etcd)
    return request.param


@pytest.fixture
async def make_store(backend_name, tmp_path, request):
    """make_store(**opts) -> a new Store on this test's data; closed after the test."""
    made = []
    if "etcd" in backend_name:
        pytest.importorskip("apiserver.storage.etcd", reason="EtcdStore not built yet")
        endpoint = request.getfixturevalue("etcd_endpoint")
        prefix = f"/contract{next(_prefixes)}"

    def make(**opts):
        cache_opts = {k: opts.pop(k) for k in ("window", "watcher_buffer") if k in opts}
        if "etcd" in backend_name:
            from apiserver.storage.etcd import EtcdStore

            store = EtcdStore([endpoint], prefix=prefix, **opts)
        else:
            store = SQLiteStore(str(tmp_path / "state.db"), shared=backend_name == "shared-sqlite", **opts)
        if backend_name.startswith("cached"):
            store = CachedStore(store, **cache_opts)
        made.append(store)
        return store

    yield make
    for s in made:
        await s.close()


@pytest.fixture
async def store(make_store):
    return make_store()
