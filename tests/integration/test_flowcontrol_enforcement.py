"""API Priority and Fairness enforced: every API answer names its FlowSchema and priority
level; a one-seat level is saturated by requests whose bodies the test holds back (each
keeps its seat until its body arrives), so the next request of that user is answered 429
with Retry-After while another user's `kubectl get pods` answers, and our own client
(kubeclient, as a service account of the level) waits as Retry-After says and gets its
answer once the seat is free; a watch holds its seat only while it is set up. Users are
the admin impersonating them, as `kubectl --as`."""
from __future__ import annotations

import contextlib
import asyncio
import re
import socket
import ssl
import threading
import time
import uuid

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubeclient.client import ApiClient
from kubeclient.kubeconfig import ClusterConfig
from kubeclient.resources import CONFIGMAPS

SLOW = "apf-slow-user"
SLOW_SA = "apf-slow-sa"


def _metric(admin_http, name: str, level: str) -> float | None:
    text = admin_http.get("/metrics").text
    m = re.search(rf'^{name}{{priority_level="{level}"[^}}]*}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def _wait_for(predicate, what: str, timeout: float = 30):
    """Poll until predicate() is truthy; a loaded CI machine may take seconds to get there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"never saw {what}")


def _refused(call) -> tuple[int, object, str]:
    """(status, headers, body) of a call that must fail; the exception (and the connection
    its response holds) is not kept, so the server's shutdown has nothing left open."""
    try:
        call()
    except ApiException as e:
        return e.status, e.headers, e.body   # case-insensitive headers
    pytest.fail("the call was not refused")


def _as(server, user: str):
    api = config.new_client_from_config(config_file=str(server.kubeconfig))
    api.set_default_header("Impersonate-User", user)
    return api


@pytest.fixture
def tiny_level(api_client, admin_http, namespace):
    """A Reject level with one share (one seat) and a FlowSchema sending SLOW's requests there."""
    fc = client.FlowcontrolApiserverV1Api(api_client)
    name = f"tiny-{uuid.uuid4().hex[:6]}"
    fc.create_priority_level_configuration({"metadata": {"name": name}, "spec": {
        "type": "Limited", "limited": {"nominalConcurrencyShares": 1, "limitResponse": {"type": "Reject"}}}})
    fc.create_flow_schema({"metadata": {"name": name}, "spec": {
        "priorityLevelConfiguration": {"name": name}, "matchingPrecedence": 100,
        "distinguisherMethod": {"type": "ByUser"},
        "rules": [{"subjects": [{"kind": "User", "user": {"name": SLOW}},
                                {"kind": "ServiceAccount", "serviceAccount": {"namespace": namespace, "name": SLOW_SA}}],
                   "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                                      "namespaces": ["*"], "clusterScope": True}]}]}})
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "apf-users"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                       "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": SLOW},
                     {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "apf-other-user"},
                     {"kind": "ServiceAccount", "name": SLOW_SA, "namespace": namespace}]})
    seats = _wait_for(lambda: _metric(admin_http, "apiserver_flowcontrol_nominal_limit_seats", name),
                      "the new priority level in use")
    yield name, int(seats), fc.read_flow_schema(name).metadata.uid
    fc.delete_flow_schema(name)
    fc.delete_priority_level_configuration(name)


class _HeldBack:
    """A POST whose body is held back: the request holds its seat while the server reads it."""

    def __init__(self, server, path: str, user: str, body: bytes):
        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        ctx.set_alpn_protocols(["http/1.1"])
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=30),
                                    server_hostname="127.0.0.1")
        self.body = body
        self.sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.token}\r\n"
                           f"Impersonate-User: {user}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:5])

    def finish(self) -> str:
        self.sock.sendall(self.body[5:])
        status = self.sock.recv(65536).decode(errors="replace").split("\r\n", 1)[0]
        self.sock.close()
        return status


def test_every_answer_names_its_flow_schema_and_priority_level(server, api_client):
    fc = client.FlowcontrolApiserverV1Api(api_client)
    uid = {(kind, o.metadata.name): o.metadata.uid for kind, items in
           (("fs", fc.list_flow_schema().items), ("pl", fc.list_priority_level_configuration().items))
           for o in items}
    _, code, headers = client.CoreV1Api(api_client).list_namespace_with_http_info()
    assert code == 200   # the admin is in system:masters: exempt
    assert (headers["X-Kubernetes-PF-FlowSchema-UID"], headers["X-Kubernetes-PF-PriorityLevel-UID"]) == \
        (uid["fs", "exempt"], uid["pl", "exempt"])
    alice = _as(server, "apf-alice")
    try:
        status, headers, _ = _refused(client.CoreV1Api(alice).list_namespace)   # forbidden, still classified
        assert status == 403
        assert (headers["X-Kubernetes-PF-FlowSchema-UID"], headers["X-Kubernetes-PF-PriorityLevel-UID"]) == \
            (uid["fs", "global-default"], uid["pl", "global-default"])
    finally:
        alice.close()


def _sa_token(api_client, namespace: str) -> str:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": SLOW_SA}})
    return core.create_namespaced_service_account_token(SLOW_SA, namespace, {"spec": {"audiences": []}}).status.token


async def _kubeclient_list(server, token: str, namespace: str) -> dict:
    async with ApiClient(ClusterConfig(server.url, ca_pem=server.ca_file.read_text(), token=token)) as kc:
        return await kc.list(CONFIGMAPS, namespace)


def test_a_saturated_level_answers_429_while_others_are_served(server, kubectl, admin_http, api_client, namespace,
                                                                tiny_level):
    level, seats, fs_uid = tiny_level
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    held = [_HeldBack(server, path, SLOW, b'{"metadata": {"name": "held-%d"}}' % i) for i in range(seats)]
    _wait_for(lambda: _metric(admin_http, "apiserver_flowcontrol_current_executing_requests", level) == seats,
              f"{seats} requests executing at {level}")
    slow = _as(server, SLOW)
    try:
        status, headers, body = _refused(lambda: client.CoreV1Api(slow).list_namespaced_pod(namespace))
        assert status == 429 and headers["Retry-After"] == "1"
        assert headers["X-Kubernetes-PF-FlowSchema-UID"] == fs_uid
        assert '"reason":"TooManyRequests"' in body.replace(" ", "")
        # another user, another flow schema: answered at once
        out = kubectl("get", "pods", "-n", namespace, "--as", "apf-other-user")
        assert "No resources found" in out.stderr + out.stdout
        rejected = _metric(admin_http, "apiserver_flowcontrol_rejected_requests_total", level)
        assert rejected >= 1
        # kubeclient, as the level's service account: refused, it waits Retry-After and asks again
        answer: dict = {}
        waiter = threading.Thread(target=lambda: answer.update(asyncio.run(_kubeclient_list(
            server, _sa_token(api_client, namespace), namespace))))
        waiter.start()
        _wait_for(lambda: _metric(admin_http, "apiserver_flowcontrol_rejected_requests_total", level) > rejected,
                  "kubeclient's request refused")
        assert [h.finish() for h in held] == ["HTTP/1.1 201 Created"] * seats
        waiter.join(30)
        assert len(answer["items"]) == seats
        assert client.CoreV1Api(slow).list_namespaced_config_map(namespace).items
    finally:
        slow.close()


def test_a_watch_holds_its_seat_only_while_it_starts(server, namespace, tiny_level):
    slow = _as(server, SLOW)
    try:
        core = client.CoreV1Api(slow)
        stream = core.list_namespaced_config_map(namespace, watch=True, timeout_seconds=60, _preload_content=False)
        try:
            assert stream.status == 200
            assert core.list_namespaced_config_map(namespace).items == []   # the one seat is free again
        finally:
            stream.close()   # closes the connection: the watch ends
    finally:
        slow.close()


def test_dangling_condition_follows_the_priority_level(api_client, kubectl):
    fc = client.FlowcontrolApiserverV1Api(api_client)
    name = f"dangling-{uuid.uuid4().hex[:6]}"
    fc.create_flow_schema({"metadata": {"name": name}, "spec": {
        "priorityLevelConfiguration": {"name": name}, "matchingPrecedence": 9000,
        "rules": [{"subjects": [{"kind": "User", "user": {"name": "nobody-at-all"}}],
                   "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}})

    def dangling() -> str | None:
        status = fc.read_flow_schema(name).status  # None until the watcher first writes it
        conditions = (status and status.conditions) or []
        return next((c.status for c in conditions if c.type == "Dangling"), None)
    try:
        assert _wait_for(dangling, "a Dangling condition") == "True"
        line = next(x for x in kubectl("get", "flowschemas", name).stdout.splitlines() if x.startswith(name))
        assert line.split()[-1] == "True"   # the MISSINGPL column
        fc.create_priority_level_configuration({"metadata": {"name": name}, "spec": {
            "type": "Limited", "limited": {"nominalConcurrencyShares": 1, "limitResponse": {"type": "Reject"}}}})
        _wait_for(lambda: dangling() == "False", "Dangling False once the level exists")
    finally:
        fc.delete_flow_schema(name)
        with contextlib.suppress(ApiException):
            fc.delete_priority_level_configuration(name)
