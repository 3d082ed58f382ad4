"""[sig-network] Proxy rows (proxy.go): pods/proxy and services/proxy relay every HTTP
verb to the pod. Upstream's agnhost netexec echoes the method; here a busybox `nc`
server answers each request with its method and path, as JSON."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.conformance.dataplane import IMAGE, NETTEST, require_nettest
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


PORTER_ENV = {"SERVE_PORT_80": '<a href="/rewriteme">test</a>', "SERVE_PORT_1080": '<a href="/rewriteme">test</a>',
              "SERVE_PORT_160": "foo", "SERVE_PORT_162": "bar",
              "SERVE_TLS_PORT_443": '<a href="/tlsrewriteme">test</a>', "SERVE_TLS_PORT_460": "tls baz",
              "SERVE_TLS_PORT_462": "tls qux"}
PROXY_ATTEMPTS = 20   # upstream's proxyAttempts: every case, this many rounds, the cases of a round at once


def _porter_deployment(name: str, labels: dict) -> dict:
    """Upstream's deployment of one porter pod (hack/nettest/porter.c here), Recreate strategy."""
    ports = [{"containerPort": 80}] + [{"name": n, "containerPort": p} for n, p in (
        ("dest1", 160), ("dest2", 162), ("tlsdest1", 460), ("tlsdest2", 462))]
    return {"metadata": {"name": name}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels}, "strategy": {"type": "Recreate"},
        "template": {"metadata": {"labels": labels}, "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
            "name": name, "image": NETTEST, "command": ["porter"],
            "env": [{"name": k, "value": v} for k, v in PORTER_ENV.items()], "ports": ports,
            "readinessProbe": {"httpGet": {"port": 80}, "initialDelaySeconds": 1, "timeoutSeconds": 5,
                               "periodSeconds": 10}}]}}}}


def _join(scheme: str, name: str, port: str) -> str:
    """upstream's net.JoinSchemeNamePort"""
    return ":".join(p for p in (scheme, name) if p) + (f":{port}" if port else "")


@row("Proxy, logs service endpoint", release="v1.9", needs="CTRL+POD",
     codename="[sig-network] Proxy version v1 should proxy through a service and a pod")
def test_proxy_through_a_service_and_a_pod(api, core, ns):
    from concurrent.futures import ThreadPoolExecutor

    from tests.conformance.support import raw_request
    require_nettest()
    labels = {"proxy-service-target": "true"}
    svc = core.create_namespaced_service(ns, {"metadata": {"generateName": "proxy-service-"}, "spec": {
        "selector": labels, "ports": [{"name": "portname1", "port": 80, "targetPort": "dest1"},
                                      {"name": "portname2", "port": 81, "targetPort": 162},
                                      {"name": "tlsportname1", "port": 443, "targetPort": "tlsdest1"},
                                      {"name": "tlsportname2", "port": 444, "targetPort": 462}]}})
    name = svc.metadata.name
    client.AppsV1Api(api).create_namespaced_deployment(ns, _porter_deployment(name, labels))

    def ready_pod():
        pods = core.list_namespaced_pod(ns, label_selector="proxy-service-target=true").items
        return next((p.metadata.name for p in pods if any(c.type == "Ready" and c.status == "True"
                                                          for c in p.status.conditions or [])), None)
    pod = wait_for(ready_pod, timeout=120, what="the porter pod ready")
    slices = client.DiscoveryV1Api(api)
    wait_for(lambda: any(ep.conditions is None or ep.conditions.ready is not False
                         for s in slices.list_namespaced_endpoint_slice(
                             ns, label_selector=f"kubernetes.io/service-name={name}").items
                         for ep in s.endpoints or []), timeout=120, what=f"{name} has a ready endpoint")

    def svc_url(scheme, port):
        return f"/api/v1/namespaces/{ns}/services/{_join(scheme, name, port)}/proxy"

    def pod_url(scheme, port):
        return f"/api/v1/namespaces/{ns}/pods/{_join(scheme, pod, port)}/proxy"
    expectations = {
        svc_url("", "portname1") + "/": "foo", svc_url("http", "portname1") + "/": "foo",
        svc_url("", "portname2") + "/": "bar", svc_url("http", "portname2") + "/": "bar",
        svc_url("https", "tlsportname1") + "/": "tls baz", svc_url("https", "tlsportname2") + "/": "tls qux",
        pod_url("", "") + "/": f'<a href="{pod_url("", "")}/rewriteme">test</a>',
        pod_url("", "1080") + "/": f'<a href="{pod_url("", "1080")}/rewriteme">test</a>',
        pod_url("http", "1080") + "/": f'<a href="{pod_url("http", "1080")}/rewriteme">test</a>',
        pod_url("", "160") + "/": "foo", pod_url("http", "160") + "/": "foo",
        pod_url("", "162") + "/": "bar", pod_url("http", "162") + "/": "bar",
        pod_url("https", "443") + "/": f'<a href="{pod_url("https", "443")}/tlsrewriteme">test</a>',
        pod_url("https", "460") + "/": "tls baz", pod_url("https", "462") + "/": "tls qux",
    }

    def attempt(i_path):
        i, path = i_path
        r = raw_request(api, "GET", path, headers={"Accept": "*/*"})
        body = r.body.decode(errors="replace")
        if r.status != 200:
            return f"{i}: path {path} gave status: {r.status} {body[:200]}"
        if body != expectations[path]:
            return f"{i}: path {path}: wanted {expectations[path]}, got {body}"
        return None
    errs = []
    with ThreadPoolExecutor(len(expectations)) as pool:
        for i in range(PROXY_ATTEMPTS):
            errs += [e for e in pool.map(attempt, [(i, p) for p in expectations]) if e]
    assert not errs, "\n".join(errs[:20])
