"""The hand-written exposition format, read back by prometheus_client's parser, and
upstream's verb and scope labels."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from promtext import Counter, Gauge, Histogram, process_families, render
from apiserver.http.metrics import client_of, reported_scope, reported_verb
from apiserver.http.requestinfo import parse_request_info


def parsed(families) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(render(families).decode()) for s in f.samples}


def test_histogram_buckets_are_cumulative_and_end_in_the_count():
    h = Histogram("t_seconds", "help", ("verb",), (0.1, 1.0))
    for v in (0.05, 0.1, 0.5, 7.0):
        h.observe(("GET",), v)
    got = parsed([h])
    assert got[("t_seconds_bucket", (("le", "0.1"), ("verb", "GET")))] == 2   # 0.1 is in le="0.1"
    assert got[("t_seconds_bucket", (("le", "1.0"), ("verb", "GET")))] == 3
    assert got[("t_seconds_bucket", (("le", "+Inf"), ("verb", "GET")))] == 4
    assert got[("t_seconds_count", (("verb", "GET"),))] == 4
    assert abs(got[("t_seconds_sum", (("verb", "GET"),))] - 7.65) < 1e-9


def test_label_values_are_escaped_and_gauges_can_be_computed():
    c = Counter("t_total", "help", ("path",))
    c.inc(('a"b\\c\nd',), 2)
    g = Gauge("t_objects", "help", ("resource",), read=lambda: {("pods",): 3})
    got = parsed([c, g])
    assert got[("t_total", (("path", 'a"b\\c\nd'),))] == 2
    assert got[("t_objects", (("resource", "pods"),))] == 3


def test_process_metrics_read_from_proc():
    got = parsed(process_families())
    assert got[("process_resident_memory_bytes", ())] > 0
    assert got[("process_open_fds", ())] > 0


def test_upstream_verbs_and_scopes():
    def label(method, path, query=None, ctype=""):
        info = parse_request_info(method, path, query or {})
        return reported_verb(method, info, ctype), reported_scope(info)
    assert label("GET", "/api/v1/namespaces/d/pods") == ("LIST", "namespace")
    assert label("GET", "/api/v1/pods", {"watch": "true"}) == ("WATCH", "cluster")
    assert label("GET", "/api/v1/namespaces/d/pods/p") == ("GET", "resource")
    assert label("POST", "/api/v1/namespaces/d/pods") == ("POST", "resource")
    assert label("PATCH", "/api/v1/namespaces/d/pods/p", ctype="application/apply-patch+yaml") == \
        ("APPLY", "resource")
    assert label("POST", "/api/v1/namespaces/d/pods/p/exec")[0] == "CONNECT"
    assert label("DELETE", "/api/v1/namespaces/d/pods") == ("DELETE", "namespace")
    assert label("GET", "/healthz") == ("GET", "")


@pytest.mark.parametrize("agent,client", [
    (b"pocketkube-controller-manager", "kube-controller-manager"),
    (b"pocketkube-nodeagent/node-1", "kubelet"),
    (b"pocketkube-proxy/node-1", "kube-proxy"),
    (b"pocketkube-dns/node-1", "dns"),
    (b"kubectl.1.33/v1.33.0 (linux/amd64) kubernetes/abc", "kubectl"),
    (b"Mozilla/5.0 (X11; Linux x86_64) Chrome/156", "browser"),
    (b"OpenAPI-Generator/31.0.0/python", "other"),
    (b"", "other"),
])
def test_requests_are_counted_by_a_fixed_set_of_clients(agent, client):
    assert client_of(agent) == client


def test_constant_labels_go_on_every_sample():
    c = Counter("t_total", "help", ("verb",))
    c.inc(("GET",))
    g = Gauge("t_up", "help")
    g.values[()] = 1
    text = text_string_to_metric_families(render([c, g], {"worker": "1"}).decode())
    assert {(s.name, tuple(sorted(s.labels.items()))) for f in text for s in f.samples} == {
        ("t_total", (("verb", "GET"), ("worker", "1"))), ("t_up", (("worker", "1"),))}
