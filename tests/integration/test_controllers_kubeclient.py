"""The shared client (kubeclient) against the real API server: verbs, Status
errors, watch, informer cache and handlers, event aggregation."""
from __future__ import annotations

import asyncio

import pytest

from kubeclient import ApiClient, ApiError, EventRecorder, Informer
from kubeclient.resources import CONFIGMAPS, EVENTS

from controllers_support import poll


@pytest.fixture
async def client(server):
    async with ApiClient.from_kubeconfig(str(server.kubeconfig)) as c:
        yield c


async def test_verbs_and_status_errors(client, namespace):
    cm = await client.create(CONFIGMAPS, {"metadata": {"name": "a"}, "data": {"k": "1"}}, namespace)
    assert cm["metadata"]["uid"]
    with pytest.raises(ApiError) as e:
        await client.create(CONFIGMAPS, {"metadata": {"name": "a"}}, namespace)
    assert e.value.already_exists and e.value.status["kind"] == "Status"
    patched = await client.patch(CONFIGMAPS, "a", {"data": {"k": "2"}}, namespace)
    assert patched["data"]["k"] == "2"
    stale = dict(cm, data={"k": "3"})
    with pytest.raises(ApiError) as e:
        await client.update(CONFIGMAPS, stale, namespace)  # old resourceVersion
    assert e.value.conflict
    listed = await client.list_all(CONFIGMAPS, namespace, page_size=1)
    assert "a" in [i["metadata"]["name"] for i in listed["items"]]
    await client.delete(CONFIGMAPS, "a", namespace)
    with pytest.raises(ApiError) as e:
        await client.get(CONFIGMAPS, "a", namespace)
    assert e.value.not_found and e.value.reason == "NotFound"


async def test_informer_caches_and_calls_handlers(client, namespace):
    inf = Informer(client, CONFIGMAPS, namespace)
    seen = []
    inf.add_handler(lambda o: seen.append(("add", o["metadata"]["name"])),
                    lambda old, new: seen.append(("update", new["metadata"]["name"])),
                    lambda o: seen.append(("delete", o["metadata"]["name"])))
    await client.create(CONFIGMAPS, {"metadata": {"name": "before"}}, namespace)
    task = asyncio.ensure_future(inf.run())
    try:
        await asyncio.wait_for(inf.wait_synced(), 30)
        assert inf.get(f"{namespace}/before") is not None
        await client.create(CONFIGMAPS, {"metadata": {"name": "after"}}, namespace)
        await client.patch(CONFIGMAPS, "after", {"data": {"x": "y"}}, namespace)
        await client.delete(CONFIGMAPS, "before", namespace)
        await poll(lambda: ("delete", "before") in seen and ("update", "after") in seen, what="handlers")
        assert ("add", "before") in seen and ("add", "after") in seen
        assert inf.get(f"{namespace}/before") is None and inf.get(f"{namespace}/after")["data"] == {"x": "y"}
    finally:
        task.cancel()


async def test_event_recorder_aggregates_repeats(client, namespace):
    cm = await client.create(CONFIGMAPS, {"metadata": {"name": "subject"}}, namespace)
    cm.setdefault("kind", "ConfigMap")
    rec = EventRecorder(client, "test-component")
    for _ in range(3):
        rec.event(cm, "Warning", "Repeated", "the same thing again")
    await rec.flush()
    items = [e for e in (await client.list(EVENTS, namespace)).get("items") or [] if e["reason"] == "Repeated"]
    assert len(items) == 1 and items[0]["count"] == 3
    assert items[0]["source"]["component"] == "test-component"
    assert items[0]["reportingComponent"] == "test-component"
    await rec.close()
