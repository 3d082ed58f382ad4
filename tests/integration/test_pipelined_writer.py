"""kubeclient.pipelined against the real API server: many small writes over a few
pipelined HTTP/1.1 connections (how `nodeagent --simulate` renews its Leases), each
answered in order with its own status; the result seen through kubectl."""
from __future__ import annotations

import asyncio
import json
import uuid

import orjson

from kubeclient import ApiClient
from kubeclient.pipelined import PipelinedWriter
from kubeclient.resources import LEASES

NS = "kube-node-lease"


async def test_pipelined_patches_are_answered_in_order(server, kubectl):
    tag = f"pipe{uuid.uuid4().hex[:6]}"
    names = [f"{tag}-{i}" for i in range(60)]
    async with ApiClient.from_kubeconfig(str(server.kubeconfig)) as client:
        await asyncio.gather(*(client.create(LEASES, {"metadata": {"name": n, "labels": {"tag": tag}},
                                                      "spec": {"holderIdentity": "nobody"}}, NS) for n in names))
        writer = PipelinedWriter(client.config, connections=3)
        try:
            sent = [writer.send("PATCH", LEASES.path(NS, n), orjson.dumps({"spec": {"holderIdentity": n}}),
                                "application/merge-patch+json") for n in names]
            missing = writer.send("PATCH", LEASES.path(NS, f"{tag}-missing"), b'{"spec": {}}',
                                  "application/merge-patch+json")
            answers = await asyncio.gather(*sent)
            status, raw = await missing
        finally:
            await writer.close()
    assert [s for s, _ in answers] == [200] * len(names)
    assert [orjson.loads(body)["metadata"]["name"] for _, body in answers] == names  # each its own answer
    assert status == 404 and orjson.loads(raw)["reason"] == "NotFound"
    leases = json.loads(kubectl("get", "leases", "-n", NS, "-l", f"tag={tag}", "-o", "json").stdout)["items"]
    assert {x["metadata"]["name"]: x["spec"]["holderIdentity"] for x in leases} == {n: n for n in names}
    kubectl("delete", "leases", "-n", NS, "-l", f"tag={tag}")


async def test_api_client_writes_pipelined_answer_as_through_httpx(server, kubectl):
    """ApiClient(pipelined_writes=N) (the controller manager's): creates, updates, patches and
    deletes go down the pipelined connections with the same answers, errors and query
    parameters as the regular path; reads stay on httpx."""
    from kubeclient import ApiError
    from kubeclient.resources import CONFIGMAPS
    tag = f"pw{uuid.uuid4().hex[:6]}"
    ns = "default"
    async with ApiClient.from_kubeconfig(str(server.kubeconfig), pipelined_writes=2) as client:
        made = await asyncio.gather(*(client.create(CONFIGMAPS, {"metadata": {"name": f"{tag}-{i}", "labels": {"tag": tag}},
                                                     "data": {"i": str(i)}},
                                                    ns, field_manager="pipe-test") for i in range(20)))
        assert client._pipe is not None  # they went pipelined
        assert [m["metadata"]["name"] for m in made] == [f"{tag}-{i}" for i in range(20)]
        assert made[0]["metadata"]["managedFields"][0]["manager"] == "pipe-test"  # the query string arrived
        try:
            await client.create(CONFIGMAPS, {"metadata": {"name": f"{tag}-0"}}, ns)
            raise AssertionError("a second create of the same name was accepted")
        except ApiError as e:
            assert e.already_exists and f"{tag}-0" in e.message
        try:
            await client.create(CONFIGMAPS, {"metadata": {"name": "Bad_Name"}}, ns)
            raise AssertionError("an invalid name was accepted")
        except ApiError as e:
            assert e.code == 422 and "metadata.name" in e.message
        cm = made[1]
        cm["data"] = {"i": "updated"}
        updated = await client.update(CONFIGMAPS, cm, ns)
        assert updated["data"] == {"i": "updated"}
        stale = dict(made[1], data={"i": "stale"})
        try:
            await client.update(CONFIGMAPS, stale, ns)  # the resourceVersion it carries is old now
            raise AssertionError("a stale update was accepted")
        except ApiError as e:
            assert e.conflict
        patched = await client.patch(CONFIGMAPS, f"{tag}-2", {"data": {"p": "yes"}}, ns)
        assert patched["data"] == {"i": "2", "p": "yes"}
        gone = await client.delete(CONFIGMAPS, f"{tag}-3", ns)
        assert gone.get("kind") in ("Status", "ConfigMap")
        try:
            await client.delete(CONFIGMAPS, f"{tag}-3", ns)
            raise AssertionError("a second delete found the object")
        except ApiError as e:
            assert e.not_found
    items = json.loads(kubectl("get", "configmaps", "-n", ns, "-l", f"tag={tag}", "-o", "json").stdout)["items"]
    mine = {x["metadata"]["name"]: x.get("data") for x in items}
    assert len(mine) == 19 and mine[f"{tag}-1"] == {"i": "updated"} and mine[f"{tag}-2"] == {"i": "2", "p": "yes"}
    kubectl("delete", "configmaps", "-n", ns, "-l", f"tag={tag}")
