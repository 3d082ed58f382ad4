"""[sig-network] Proxy rows (proxy.go): pods/proxy and services/proxy relay every HTTP
verb to the pod. Upstream's agnhost netexec echoes the method; here a busybox `nc`
server answers each request with its method and path, as JSON."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.conformance.dataplane import IMAGE
from tests.conformance.rows import row
from tests.conformance.support import wait_for

VERBS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# One request per connection: the request line, headers up to the blank line, the
# body (Content-Length), then {"method": ..., "path": ...}.
ECHO = r"""cat > /echo.sh <<'END'
#!/bin/sh
read -r method target version
len=0
while read -r h; do
  h=$(printf %s "$h" | tr -d '\r')
  [ -z "$h" ] && break
  case "$h" in [Cc]ontent-[Ll]ength:*) len=$(echo "${h#*:}" | tr -d ' ');; esac
done
[ "$len" -gt 0 ] && head -c "$len" >/dev/null
body="{\"method\":\"$method\",\"path\":\"$target\"}"
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' ${#body}
[ "$method" = HEAD ] || printf %s "$body"
END
chmod +x /echo.sh && exec nc -ll -p 80 -e /echo.sh"""


@pytest.fixture
def echo(core, ns):
    """Pod `agnhost` and Service `test-service` (port 80) in front of it, as upstream's."""
    labels = {"test": "response"}
    core.create_namespaced_pod(ns, {"metadata": {"name": "agnhost", "labels": labels}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "agnhost", "image": IMAGE, "command": ["sh", "-c", ECHO],
                        "ports": [{"containerPort": 80}]}]}})
    core.create_namespaced_service(ns, {"metadata": {"name": "test-service"}, "spec": {
        "selector": labels, "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}})
    wait_for(lambda: core.read_namespaced_pod("agnhost", ns).status.phase == "Running", timeout=120,
             what="agnhost running")
    slices = client.DiscoveryV1Api(core.api_client)
    wait_for(lambda: any(ep.conditions is None or ep.conditions.ready is not False
                         for s in slices.list_namespaced_endpoint_slice(
                             ns, label_selector="kubernetes.io/service-name=test-service").items
                         for ep in s.endpoints or []),
             timeout=120, what="test-service has a ready endpoint")
    return ns


def _answer(core, verb: str, kind: str, name: str, ns: str, path: str | None):
    fn = getattr(core, f"connect_{verb.lower()}_namespaced_{kind}_proxy" + ("_with_path" if path else ""))
    try:
        return fn(*((name, ns, path) if path else (name, ns)), _preload_content=False)
    except client.ApiException as e:
        if e.status == 503:   # the pod's server is not listening yet
            return None
        raise


def check_verbs(core, ns: str, path: str | None) -> None:
    for kind, name in (("pod", "agnhost"), ("service", "test-service")):
        for verb in VERBS:
            r = wait_for(lambda: _answer(core, verb, kind, name, ns, path), timeout=30, interval=1,
                         what=f"{verb} {kind}s/{name}/proxy")
            assert r.status == 200, (verb, kind, r.status)
            if verb != "HEAD":
                assert json.loads(r.data) == {"method": verb, "path": "/" + (path or "")}, (verb, kind, r.data)


@row("Proxy, validate ProxyWithPath responses", release="v1.21", needs="POD",
     codename="[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service "
              "ProxyWithPath")
def test_proxy_with_path_valid_responses(core, ns, echo):
    check_verbs(core, ns, "some/path/with/verbs")


@row("Proxy, validate Proxy responses", release="v1.24", needs="POD",
     codename="[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service Proxy")
def test_proxy_valid_responses(core, ns, echo):
    check_verbs(core, ns, None)
