"""CRDs coming and going while other clients work: the OpenAPI documents are built
again in a worker thread after each change, and meanwhile every other request is
answered correctly; each document fetched after a CRD is Established has its kind,
and loses it once the CRD is gone. (How long GETs wait meanwhile is measured by
hack/bench/bench_crd_churn.py, not asserted here.)"""
from __future__ import annotations

import threading
import uuid

from kubernetes import client

from tests.conformance.support import wait_for

PROTO_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def _crd(group: str) -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"gadgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "properties": {"spec": {"type": "object", "properties": {
                             "size": {"type": "integer", "description": "How big."}}}}}}}]}}


def test_requests_are_answered_correctly_while_crds_churn(api_client, admin_http, namespace):
    core = client.CoreV1Api(api_client)
    ext = client.ApiextensionsV1Api(api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "steady"}, "data": {"k": "v"}})
    admin_http.get("/openapi/v2").raise_for_status()
    stop = threading.Event()
    answers: list[dict] = []
    failures: list[BaseException] = []

    def reader():
        try:
            while not stop.is_set():
                cm = core.read_namespaced_config_map("steady", namespace)
                answers.append(cm.data)
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(3):
            group = f"churn{uuid.uuid4().hex[:6]}.example.com"
            name = f"gadgets.{group}"
            ext.create_custom_resource_definition(_crd(group))
            wait_for(lambda: any(c.type == "Established" and c.status == "True"
                                 for c in ext.read_custom_resource_definition(name).status.conditions or ()),
                     what="CRD Established")
            definition = ".".join(reversed(group.split("."))) + ".v1.Gadget"
            v2 = admin_http.get("/openapi/v2").json()
            assert v2["definitions"][definition]["properties"]["spec"]["properties"]["size"]["description"] == "How big."
            assert f"/apis/{group}/v1/namespaces/{{namespace}}/gadgets" in v2["paths"]
            proto = admin_http.get("/openapi/v2", headers={"Accept": PROTO_V2})
            assert proto.status_code == 200 and definition.encode() in proto.content
            index = admin_http.get("/openapi/v3").json()
            doc = admin_http.get(index["paths"][f"apis/{group}/v1"]["serverRelativeURL"]).json()
            assert definition in doc["components"]["schemas"]
            ext.delete_custom_resource_definition(name)

            def gone():
                try:
                    ext.read_custom_resource_definition(name)
                    return False
                except client.ApiException as e:
                    return e.status == 404
            wait_for(gone, what="CRD deleted")
            assert definition not in admin_http.get("/openapi/v2").json()["definitions"]
            assert f"apis/{group}/v1" not in admin_http.get("/openapi/v3").json()["paths"]
    finally:
        stop.set()
        t.join()
    assert not failures, failures
    assert answers and all(a == {"k": "v"} for a in answers)
