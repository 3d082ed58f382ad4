"""The audit log (--audit-policy-file, --audit-log-path) of a real server, driven by
kubectl and the Python client: a create, a watch, a denied and a refused request,
each as audit.k8s.io/v1 Events in JSON lines; Secrets never show their data at the
Metadata level; every response names its events in an Audit-Id header."""
from __future__ import annotations

import base64
import ssl
import time
import uuid

import httpx
import pytest

from tests.audit_support import audit_events, audit_log_flags, audit_policy
from tests.harness import kubectl_runner, running_server

POLICY = audit_policy("""\
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
  omitManagedFields: true
- level: Metadata
""")


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    (tmp / "tokens.csv").write_text('eve-token,eve,2001,"outsiders"\n')
    log = tmp / "logs" / "audit.log"
    with running_server(tmp / "data", extra_args=[
            "--authorization-mode=RBAC", "--token-auth-file", str(tmp / "tokens.csv"),
            *audit_log_flags(tmp, POLICY, log)]) as srv:
        yield srv, log, kubectl_runner(srv.kubeconfig, tmp / "kubectl")


def events(log, want, timeout=10.0) -> list[dict]:
    """The log's events once `want(events)` holds (the writer thread is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        evs = audit_events(log)
        if want(evs) or time.monotonic() > deadline:
            return evs


def test_a_secret_create_is_logged_without_its_data(audited):
    srv, log, kubectl = audited
    password = f"pw-{uuid.uuid4().hex}"
    name = f"db-{uuid.uuid4().hex[:6]}"
    kubectl("create", "secret", "generic", name, f"--from-literal=password={password}")

    def mine(evs):
        return [e for e in evs if e.get("objectRef", {}).get("name") == name and e["verb"] == "create"]
    evs = mine(events(log, mine))
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["kind"] == "Event" and ev["apiVersion"] == "audit.k8s.io/v1"
    assert ev["level"] == "Metadata" and ev["stage"] == "ResponseComplete"
    assert ev["objectRef"] == {"resource": "secrets", "namespace": "default", "name": name, "apiVersion": "v1"}
    assert ev["responseStatus"]["code"] == 201
    assert ev["user"]["username"] == "kubernetes-admin" or "system:masters" in ev["user"].get("groups", [])
    assert ev["userAgent"].startswith("kubectl")
    assert ev["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert "requestObject" not in ev and "responseObject" not in ev
    text = log.read_text()
    assert password not in text and base64.b64encode(password.encode()).decode() not in text


def test_request_response_level_keeps_both_bodies(audited):
    srv, log, kubectl = audited
    name = f"cm-{uuid.uuid4().hex[:6]}"
    kubectl("create", "configmap", name, "--from-literal=colour=blue")

    def mine(evs):
        return [e for e in evs if e.get("objectRef", {}).get("name") == name]
    ev = mine(events(log, mine))[0]
    assert ev["level"] == "RequestResponse"
    assert ev["requestObject"]["data"] == {"colour": "blue"}
    assert ev["responseObject"]["metadata"]["uid"] and ev["responseObject"]["data"] == {"colour": "blue"}
    assert "managedFields" not in ev["responseObject"]["metadata"]      # omitManagedFields


def test_a_watch_has_a_started_and_a_complete_stage(audited):
    kubernetes = pytest.importorskip("kubernetes")
    srv, log, _ = audited
    client = kubernetes.config.new_client_from_config(str(srv.kubeconfig))
    v1 = kubernetes.client.CoreV1Api(client)
    list(kubernetes.watch.Watch().stream(v1.list_namespaced_config_map, "kube-public", timeout_seconds=1))
    client.close()

    def watches(evs):
        return [e for e in evs if e["verb"] == "watch" and e.get("objectRef", {}).get("namespace") == "kube-public"]
    evs = watches(events(log, lambda evs: len(watches(evs)) >= 2))
    assert [e["stage"] for e in evs] == ["ResponseStarted", "ResponseComplete"]
    assert evs[0]["auditID"] == evs[1]["auditID"]
    assert all(e["responseStatus"]["code"] == 200 and "responseObject" not in e for e in evs)


def test_denied_and_refused_requests_are_logged(audited):
    srv, log, _ = audited
    with httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)), timeout=30) as c:
        denied = c.get("/api/v1/namespaces/default/pods", headers={"Authorization": "Bearer eve-token"})
        refused = c.get("/api/v1/namespaces/default/pods", headers={"Authorization": "Bearer no-such-token"})
    assert denied.status_code == 403 and refused.status_code == 401
    ids = {denied.headers["audit-id"], refused.headers["audit-id"]}

    def mine(evs):
        return {e["auditID"]: e for e in evs if e["auditID"] in ids}
    found = mine(events(log, lambda evs: len(mine(evs)) == 2))
    d, r = found[denied.headers["audit-id"]], found[refused.headers["audit-id"]]
    assert d["user"]["username"] == "eve" and d["verb"] == "list"
    assert d["responseStatus"]["code"] == 403 and d["responseStatus"]["reason"] == "Forbidden"
    assert d["annotations"]["authorization.k8s.io/decision"] == "forbid"
    assert r["responseStatus"]["code"] == 401 and r["user"] == {}


def test_an_impersonated_request_is_logged_as_its_sender_acting_as_another(audited):
    srv, log, kubectl = audited
    who = f"imp-{uuid.uuid4().hex[:6]}"
    kubectl("create", "rolebinding", who, "--clusterrole=view", f"--user={who}", "-n", "default")
    kubectl(f"--as={who}", "--as-group=auditors", "get", "pods", "-n", "default")

    def mine(evs):
        return [e for e in evs if (e.get("impersonatedUser") or {}).get("username") == who and e["verb"] == "list"
                and e.get("objectRef", {}).get("resource") == "pods"]
    evs = mine(events(log, mine))
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["user"]["username"] == "kubernetes-admin" or "system:masters" in ev["user"].get("groups", [])
    assert ev["user"]["username"] != who
    assert ev["impersonatedUser"] == {"username": who, "groups": ["auditors", "system:authenticated"]}
    assert ev["responseStatus"]["code"] == 200
    assert ev["annotations"]["authorization.k8s.io/decision"] == "allow"


def test_a_refused_impersonation_is_logged_as_its_sender(audited):
    srv, log, _ = audited
    with httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)), timeout=30) as c:
        r = c.get("/api/v1/namespaces/default/pods",
                  headers={"Authorization": "Bearer eve-token", "Impersonate-User": "kubernetes-admin"})
    assert r.status_code == 403
    assert 'User "eve" cannot impersonate resource "users"' in r.json()["message"]
    audit_id = r.headers["audit-id"]

    def mine(evs):
        return [e for e in evs if e["auditID"] == audit_id]
    evs = mine(events(log, mine))
    assert len(evs) == 1, evs
    assert evs[0]["user"]["username"] == "eve" and "impersonatedUser" not in evs[0]
    assert evs[0]["responseStatus"]["code"] == 403
