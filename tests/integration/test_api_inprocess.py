"""The ASGI app in process over a real SQLite store: what is awkward to reach
through a server process (bookmark timing, dry-run writes leaving no events)."""
from __future__ import annotations

import httpx
import orjson
import pytest

from apiserver.http.app import create_app
from apiserver.machinery.user import UserInfo
from apiserver.registry.registries import Registries
from apiserver.registry.attributes import admit_nothing
from apiserver.assembly.bootstrap import ensure_defaults
from apiserver.storage.cache import CachedStore
from apiserver.storage.sqlite import SQLiteStore
from openapi.catalogue import load


class _Admin:
    async def authenticate(self, headers):
        return UserInfo("admin", groups=("system:masters",))

    async def authorize(self, user, attributes):
        return True, ""


@pytest.fixture
async def http(tmp_path):
    store = CachedStore(SQLiteStore(str(tmp_path / "state.db")))
    registries = Registries(store, load())
    await ensure_defaults(registries, kubernetes_service_ip="10.96.0.1", apiserver_ip="127.0.0.1",
                          apiserver_port=6443)
    app = create_app(registries=registries, authenticator=_Admin(), authorizer=_Admin(),
                     admission_mutate=admit_nothing, admission_validate=admit_nothing,
                     bookmark_interval=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c
    await store.close()


CM = "/api/v1/namespaces/default/configmaps"


def _events(body: bytes) -> list[dict]:
    return [orjson.loads(line) for line in body.splitlines() if line]


async def test_quiet_watch_gets_bookmarks_at_the_latest_revision(http):
    r = await http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}})
    rv = r.json()["metadata"]["resourceVersion"]
    r = await http.get(CM, params={"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true",
                                   "timeoutSeconds": "1"})
    events = _events(r.content)
    assert events and all(e["type"] == "BOOKMARK" for e in events)
    assert events[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}


async def test_no_bookmarks_unless_asked(http):
    r = await http.get(CM, params={"watch": "1", "resourceVersion": "1", "timeoutSeconds": "1"})
    assert all(e["type"] != "BOOKMARK" for e in _events(r.content))


async def test_dry_run_writes_leave_no_watch_events(http):
    r = await http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}})
    rv = r.json()["metadata"]["resourceVersion"]
    dry = {"dryRun": "All"}
    assert (await http.post(CM, params=dry, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "ghost"}})).status_code == 201
    assert (await http.patch(CM + "/real", params=dry, content=b'{"data":{"x":"y"}}',
                             headers={"content-type": "application/merge-patch+json"})).status_code == 200
    assert (await http.delete(CM + "/real", params=dry)).status_code == 200
    r = await http.get(CM, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"})
    assert _events(r.content) == []
    assert (await http.get(CM + "/real")).json().get("data") is None


async def test_resource_version_match_exact_reads_history(http):
    r = await http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h"},
                                  "data": {"v": "1"}})
    rv = r.json()["metadata"]["resourceVersion"]
    r = await http.patch(CM + "/h", content=b'{"data":{"v":"2"}}',
                         headers={"content-type": "application/merge-patch+json"})
    patched = r.json()["metadata"]["resourceVersion"]
    old = (await http.get(CM, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})).json()
    assert old["metadata"]["resourceVersion"] == rv
    assert [i["data"] for i in old["items"] if i["metadata"]["name"] == "h"] == [{"v": "1"}]
    # not older than the patch (the watch cache may answer, at a revision it holds exactly)
    new = (await http.get(CM, params={"resourceVersion": patched, "resourceVersionMatch": "NotOlderThan"})).json()
    assert int(new["metadata"]["resourceVersion"]) >= int(patched)
    assert [i["data"] for i in new["items"] if i["metadata"]["name"] == "h"] == [{"v": "2"}]



async def test_a_bootstrap_that_finds_the_kubernetes_address_held_waits_for_the_holder(tmp_path):
    """API-server workers start together on a new store: one's bootstrap may find the
    kubernetes clusterIP held by another whose Service is not stored yet. It waits (and
    creates the Service itself should the holder give the address back) instead of failing."""
    import asyncio

    from apiserver.registry.allocators.ipaddresses import ipaddress_object, key_of

    store = CachedStore(SQLiteStore(str(tmp_path / "state.db")))
    try:
        registries = Registries(store, load())
        other = {"metadata": {"name": "kubernetes", "namespace": "default", "uid": "another-server"}}
        await store.create(key_of("10.96.0.1"), orjson.dumps(ipaddress_object("10.96.0.1", other)))
        boot = asyncio.create_task(ensure_defaults(registries, kubernetes_service_ip="10.96.0.1",
                                                   apiserver_ip="127.0.0.1", apiserver_port=6443))
        await asyncio.sleep(0.5)
        assert not boot.done(), boot.exception() if boot.done() else None   # it waits, not fails
        await store.delete(key_of("10.96.0.1"))   # the other server's create failed: it let go
        await asyncio.wait_for(boot, 30)
        svc = await registries.for_plural("", "services").get_or_none("default", "kubernetes")
        assert svc is not None and svc.obj["spec"]["clusterIP"] == "10.96.0.1"
    finally:
        await store.close()
