"""Where pods/proxy and services/proxy send a request (pure parts of apiserver/http/podproxy.py)."""
from __future__ import annotations

import random

import pytest

from apiserver.http.podproxy import pick_endpoint, pod_location, service_port_name, split_scheme_name_port
from apiserver.machinery.errors import StatusError


@pytest.mark.parametrize("ref,want", [
    ("web", ("", "web", "")), ("web:80", ("", "web", "80")), ("web:http", ("", "web", "http")),
    ("https:web:443", ("https", "web", "443")), ("http:web:", ("http", "web", "")),
])
def test_split_scheme_name_port(ref, want):
    assert split_scheme_name_port(ref) == want


@pytest.mark.parametrize("ref", ["", ":80", "ftp:web:21", "a:b:c:d"])
def test_split_rejects(ref):
    with pytest.raises(StatusError) as e:
        split_scheme_name_port(ref)
    assert e.value.code == 400


def test_pod_location_defaults_to_first_container_port():
    pod = {"metadata": {"name": "p"}, "status": {"podIP": "10.88.0.5"},
           "spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": 9376}]}]}}
    assert pod_location(pod, "") == ("10.88.0.5", "9376")
    assert pod_location(pod, "81") == ("10.88.0.5", "81")
    with pytest.raises(StatusError) as e:
        pod_location({"metadata": {"name": "p"}, "status": {}}, "80")
    assert e.value.code == 503


def test_service_port_number_means_its_name():
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "http", "port": 80}, {"name": "m", "port": 81}]}}
    assert service_port_name(svc, "81") == "m"
    assert service_port_name(svc, "http") == "http"
    with pytest.raises(StatusError) as e:
        service_port_name(svc, "82")
    assert e.value.code == 503 and "no service port 82" in e.value.status()["message"]


def test_pick_endpoint_takes_ready_addresses_of_the_named_port():
    slices = [{"ports": [{"name": "http", "port": 8080}, {"name": "m", "port": 9090}],
               "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}},
                             {"addresses": ["10.0.0.2"], "conditions": {"ready": False}},
                             {"addresses": ["10.0.0.3"]}]}]
    seen = {pick_endpoint(slices, "http", "s", random.Random(i)) for i in range(50)}
    assert seen == {("10.0.0.1", 8080), ("10.0.0.3", 8080)}
    assert pick_endpoint(slices, "m", "s") in {("10.0.0.1", 9090), ("10.0.0.3", 9090)}
    with pytest.raises(StatusError) as e:
        pick_endpoint(slices, "other", "s")
    assert e.value.code == 503 and 'no endpoints available for service "s"' in e.value.status()["message"]
