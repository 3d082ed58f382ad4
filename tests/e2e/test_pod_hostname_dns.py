"""A pod with spec.hostname and spec.subdomain naming a headless Service is
<hostname>.<service>.<ns>.svc.cluster.local in the cluster DNS, on real Podman."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import IMAGE
from tests.e2e.test_services_proxy_dns import apply, client, wait_endpoints, wait_programmed

pytestmark = pytest.mark.podman


def test_hostname_and_subdomain_resolve_to_the_pod(net_cluster, net_ns):
    c, ns = net_cluster, net_ns
    apply(c, ns, json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sub"},
                             "spec": {"clusterIP": "None", "selector": {"app": "sub"},
                                      "ports": [{"name": "http", "port": 80}]}}))
    apply(c, ns, json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "sub"}},
                             "spec": {"hostname": "box", "subdomain": "sub", "terminationGracePeriodSeconds": 1,
                                      "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}}))
    (ip,) = wait_endpoints(c, ns, "sub", 1)
    cl = client(c, ns)
    wait_programmed(c, c.dns_ip, 53, "udp")
    fqdn = f"box.sub.{ns}.svc.cluster.local"
    out = c.kubectl("exec", "-n", ns, cl, "--", "nslookup", "-type=a", fqdn).stdout
    answers = {ln.split()[-1] for ln in out.splitlines() if ln.startswith("Address") and "#" not in ln
               and ":53" not in ln}
    assert answers == {ip}, out
