"""A LIST larger than the streaming threshold is sent a slice at a time: every form of it
(the <Kind>List, Table, PartialObjectMetadataList) still reaches real clients whole."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from kubernetes import client

from apiserver.http.handlers.read import ITEMS_PER_CHUNK, STREAM_ABOVE

COUNT = STREAM_ABOVE + ITEMS_PER_CHUNK + 7   # streamed, over several chunks, the last one short


def test_large_lists_stream_whole_to_kubectl_and_the_official_client(namespace, api_client, admin_http, kubectl):
    core = client.CoreV1Api(api_client)

    def create(i: int) -> None:
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm-{i:04d}", labels={"set": "big"}), data={"i": str(i)}))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(COUNT)))

    listed = core.list_namespaced_config_map(namespace)
    mine = [cm for cm in listed.items if cm.metadata.name.startswith("cm-")]   # beside kube-root-ca.crt
    assert sorted(cm.metadata.name for cm in mine) == [f"cm-{i:04d}" for i in range(COUNT)]
    assert listed.metadata.resource_version
    assert {cm.data["i"] for cm in mine} == {str(i) for i in range(COUNT)}

    out = json.loads(kubectl("get", "configmaps", "-n", namespace, "-l", "set=big", "-o", "json").stdout)
    assert len(out["items"]) == COUNT and out["kind"] == "List"
    rows = kubectl("get", "configmaps", "-n", namespace, "-l", "set=big", "--no-headers").stdout.splitlines()
    assert len(rows) == COUNT and rows[0].split()[0] == "cm-0000"

    r = admin_http.get(f"/api/v1/namespaces/{namespace}/configmaps", headers={
        "Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"})
    assert r.status_code == 200 and "content-length" not in r.headers   # streamed, not built whole
    body = r.json()
    assert body["kind"] == "PartialObjectMetadataList" and body["metadata"]["resourceVersion"]
    names = [i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"].startswith("cm-")]
    assert len(names) == COUNT and body["items"][0]["kind"] == "PartialObjectMetadata"
