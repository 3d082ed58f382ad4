"""OpenAPI served to real clients: kubectl explain (v3, and v2 protobuf on 1.27), caching headers."""
from __future__ import annotations

import pytest


def test_v3_index_documents_and_etag(admin_http):
    index = admin_http.get("/openapi/v3")
    assert index.status_code == 200
    url = index.json()["paths"]["api/v1"]["serverRelativeURL"]
    doc = admin_http.get(url)
    assert doc.status_code == 200 and "immutable" in doc.headers["cache-control"]
    assert admin_http.get(url, headers={"If-None-Match": doc.headers["etag"]}).status_code == 304
    patch = doc.json()["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_explain_prints_upstream_descriptions(kubectl, version):
    out = kubectl("explain", "svc", version=version).stdout
    assert "KIND:" in out and "Service" in out
    assert "Service is a named abstraction of software service" in out
    out = kubectl("explain", "pod.spec.containers", "--recursive", version=version).stdout
    assert "imagePullPolicy" in out and "livenessProbe" in out and "<[]Container>" in out
    out = kubectl("explain", "pod.spec.containers.resources.limits", version=version).stdout
    assert "Quantity" in out


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_create_validates_on_the_server(kubectl, namespace, version):
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v8-%s\ndata:\n  a: b\n"
                % version.replace(".", ""))
    cp = kubectl("create", "-n", namespace, "-f", "-", "-v=8", version=version, input=manifest)
    log = cp.stderr
    assert "fieldValidation=Strict" in log
    assert "failed to download openapi" not in log
    assert "404 Not Found" not in log and "406 Not Acceptable" not in log


def test_kubectl_explain_lists_enum_values(kubectl):
    """Fields of upstream's `+enum` types carry `enum`, as kube-apiserver 1.33 publishes them."""
    out = kubectl("explain", "pod.spec.containers.imagePullPolicy").stdout
    assert "ENUM:" in out and all(v in out for v in ("Always", "IfNotPresent", "Never")), out
    for field, value in (("service.spec.type", "LoadBalancer"), ("pod.spec.restartPolicy", "OnFailure"),
                         ("pod.status.phase", "Succeeded"), ("deployment.spec.strategy.type", "Recreate"),
                         ("cronjob.spec.concurrencyPolicy", "Forbid"), ("pv.spec.persistentVolumeReclaimPolicy",
                                                                         "Retain")):
        out = kubectl("explain", field).stdout
        assert "ENUM:" in out and value in out, (field, out)
