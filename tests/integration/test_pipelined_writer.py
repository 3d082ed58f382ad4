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
