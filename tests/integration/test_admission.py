"""Admission through a real server: namespace lifecycle, quota, pod security,
and real HTTPS webhooks (started here) that mutate, warn and deny."""
from __future__ import annotations

import base64
import http.server
import json
import ssl
import threading
import uuid

import pytest
import yaml

from apiserver.auth import pki
from tests.harness import free_port
from tests.integration.test_metrics_apiserver import scrape, value


def test_pod_in_terminating_namespace(kubectl):
    ns = f"going-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", ns)
    kubectl("delete", "namespace", ns, "--wait=false")
    phase = kubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase}").stdout
    if phase != "Terminating":
        pytest.skip("namespace deletion finished at once (no finalizer left to wait for)")
    cp = kubectl("-n", ns, "run", "late", "--image=busybox", check=False)
    assert cp.returncode != 0
    assert (f'Error from server (Forbidden): pods "late" is forbidden: unable to create new content in '
            f"namespace {ns} because it is being terminated") in cp.stderr


def test_missing_namespace(kubectl):
    cp = kubectl("-n", "no-such-ns-here", "create", "configmap", "x", check=False)
    assert 'namespaces "no-such-ns-here" not found' in cp.stderr


def test_pod_over_quota(kubectl, namespace):
    kubectl("-n", namespace, "create", "quota", "small", "--hard=pods=1")
    kubectl("-n", namespace, "run", "one", "--image=busybox")
    cp = kubectl("-n", namespace, "run", "two", "--image=busybox", check=False)
    assert cp.returncode != 0
    assert ('Error from server (Forbidden): pods "two" is forbidden: exceeded quota: small, requested: pods=1, '
            "used: pods=1, limited: pods=1") in cp.stderr
    quota = yaml.safe_load(kubectl("-n", namespace, "get", "quota", "small", "-o", "yaml").stdout)
    assert quota["status"]["used"] == {"pods": "1"} and quota["status"]["hard"] == {"pods": "1"}


def test_privileged_pod_in_restricted_namespace(kubectl, namespace):
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"}, "spec": {"containers": [
        {"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]}}
    cp = kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(pod), check=False)
    assert cp.returncode != 0
    assert 'pods "root" is forbidden: violates PodSecurity "restricted:latest": ' in cp.stderr
    assert 'privileged (container "c" must not set securityContext.privileged=true)' in cp.stderr
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce-", "pod-security.kubernetes.io/warn=baseline")
    cp = kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(pod))
    assert 'Warning: would violate PodSecurity "baseline:latest": privileged' in cp.stderr


class _Webhook(http.server.BaseHTTPRequestHandler):
    """Mutates pods (adds a label, warns) on /mutate; denies labelled pods on /validate."""

    def do_POST(self):  # noqa: N802 - http.server's name
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        req = review["request"]
        labels = ((req.get("object") or {}).get("metadata") or {}).get("labels") or {}
        response = {"uid": req["uid"], "allowed": True}
        if self.path == "/mutate":
            ops = [{"op": "add", "path": "/metadata/labels", "value": dict(labels, mutated="yes")}]
            response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(ops).encode()).decode(),
                            warnings=["mutated by the test webhook"])
        elif labels.get("deny") == "true":
            response.update(allowed=False, status={"code": 403, "reason": "Forbidden", "message": "pods labelled deny are refused"})
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server(tmp_path):
    ca_cert, ca_key = pki.make_ca("webhook-test-ca")
    cert, key = pki.make_serving_cert(ca_cert, ca_key, ["127.0.0.1"])
    (tmp_path / "tls.crt").write_bytes(pki.cert_pem(cert))
    (tmp_path / "tls.key").write_bytes(pki.key_pem(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Webhook)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}", base64.b64encode(pki.cert_pem(ca_cert)).decode()
    httpd.shutdown()
    httpd.server_close()


def test_webhooks_mutate_warn_and_deny(kubectl, namespace, webhook_server):
    url, ca = webhook_server
    name = f"hooks-{namespace}"

    def config(kind, path, hook):
        return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
                "webhooks": [{"name": hook, "clientConfig": {"url": url + path, "caBundle": ca},
                              "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                         "resources": ["pods"]}],
                              "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                              "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5}]}

    kubectl("create", "-f", "-", input=json.dumps(config("MutatingWebhookConfiguration", "/mutate", "mutate.pocketkube.test")))
    kubectl("create", "-f", "-", input=json.dumps(config("ValidatingWebhookConfiguration", "/validate", "deny.pocketkube.test")))
    try:
        cp = kubectl("-n", namespace, "run", "hooked", "--image=busybox")
        assert "Warning: mutated by the test webhook" in cp.stderr
        labels = json.loads(kubectl("-n", namespace, "get", "pod", "hooked", "-o", "json").stdout)["metadata"]["labels"]
        assert labels["mutated"] == "yes" and labels["run"] == "hooked"
        cp = kubectl("-n", namespace, "run", "refused", "--image=busybox", "--labels=deny=true", check=False)
        assert cp.returncode != 0
        assert ('Error from server (Forbidden): admission webhook "deny.pocketkube.test" denied the request: '
                "pods labelled deny are refused") in cp.stderr
        # each call is timed per webhook (apiserver_admission_webhook_admission_duration_seconds)
        hooks = scrape(kubectl)
        assert value(hooks, "apiserver_admission_webhook_admission_duration_seconds_count", type="admit",
                     name="mutate.pocketkube.test", operation="CREATE", rejected="false") >= 2
        assert value(hooks, "apiserver_admission_webhook_admission_duration_seconds_count", type="validating",
                     name="deny.pocketkube.test", operation="CREATE", rejected="true") >= 1
        # other namespaces are not selected
        kubectl("-n", "default", "create", "configmap", f"untouched-{namespace}")
        kubectl("-n", "default", "delete", "configmap", f"untouched-{namespace}")
    finally:
        kubectl("delete", "mutatingwebhookconfiguration", name, check=False)
        kubectl("delete", "validatingwebhookconfiguration", name, check=False)


def test_unreachable_webhook_fails_closed(kubectl, namespace):
    name = f"dead-{namespace}"
    cfg = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
           "metadata": {"name": name},
           "webhooks": [{"name": "dead.pocketkube.test", "clientConfig": {"url": f"https://127.0.0.1:{free_port()}/"},
                         "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                                    "resources": ["configmaps"]}],
                         "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                         "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 2}]}
    kubectl("create", "-f", "-", input=json.dumps(cfg))
    try:
        cp = kubectl("-n", namespace, "create", "configmap", "x", check=False)
        assert cp.returncode != 0
        assert 'Internal error occurred: failed calling webhook "dead.pocketkube.test"' in cp.stderr
    finally:
        kubectl("delete", "validatingwebhookconfiguration", name)


def test_webhooks_apply_to_custom_resources(kubectl, namespace, webhook_server):
    url, ca = webhook_server
    group = f"adm{uuid.uuid4().hex[:6]}.example.com"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"gizmos.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "gizmos", "kind": "Gizmo"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
    kubectl("create", "-f", "-", input=json.dumps(crd))
    kubectl("wait", "--for=condition=Established", f"crd/gizmos.{group}", "--timeout=30s")
    name = f"cr-hooks-{namespace}"
    rules = [{"operations": ["CREATE"], "apiGroups": [group], "apiVersions": ["*"], "resources": ["gizmos"]}]
    for kind, path, hook in (("MutatingWebhookConfiguration", "/mutate", "mutate.pocketkube.test"),
                             ("ValidatingWebhookConfiguration", "/validate", "deny.pocketkube.test")):
        kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": [{"name": hook, "clientConfig": {"url": url + path, "caBundle": ca}, "rules": rules,
                          "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5}]}))
    try:
        def gizmo(n, labels):
            return json.dumps({"apiVersion": f"{group}/v1", "kind": "Gizmo",
                               "metadata": {"name": n, "labels": labels}})
        cp = kubectl("-n", namespace, "create", "-f", "-", input=gizmo("g1", {"a": "b"}))
        assert "Warning: mutated by the test webhook" in cp.stderr
        got = json.loads(kubectl("-n", namespace, "get", f"gizmos.{group}", "g1", "-o", "json").stdout)
        assert got["metadata"]["labels"] == {"a": "b", "mutated": "yes"}
        cp = kubectl("-n", namespace, "create", "-f", "-", input=gizmo("g2", {"deny": "true"}), check=False)
        assert ('Error from server (Forbidden): error when creating "STDIN": admission webhook "deny.pocketkube.test" '
                "denied the request: pods labelled deny are refused") in cp.stderr
    finally:
        kubectl("delete", "mutatingwebhookconfiguration", name)
        kubectl("delete", "validatingwebhookconfiguration", name)
        kubectl("delete", "crd", f"gizmos.{group}", "--wait=false")
