"""[sig-network] DNS rows (dns.go). Upstream's probe pods run dig in loops and write
result files; here the names are looked up from a busybox pod with nslookup, which
asks the cluster DNS (kube-dns) through the proxy, as any pod does. Only names in
the cluster's zone are asked, so no query leaves the machine."""
from __future__ import annotations

import pytest

from tests.conformance.dataplane import addresses, exec_pod, nslookup, require_dataplane, wait_programmed
from tests.conformance.rows import row
from tests.conformance.support import wait_for

ZONE = "cluster.local"


@pytest.fixture
def dns(core):
    """The name server pods get (kube-dns), programmed by the proxy."""
    require_dataplane(core)
    ip = core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip
    wait_programmed(ip)
    return ip


def _services(core, ns: str) -> tuple[str, str]:
    """Upstream's pair: a headless dns-test-service and a regular test-service-2, both
    selecting dns-test=true, port http 80."""
    for name, headless in (("dns-test-service", True), ("test-service-2", False)):
        spec = {"selector": {"dns-test": "true"}, "ports": [{"name": "http", "port": 80, "targetPort": 80}]}
        if headless:
            spec["clusterIP"] = "None"
        core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": spec})
    return "dns-test-service", core.read_namespaced_service("test-service-2", ns).spec.cluster_ip


def _probe_pod(core, ns: str) -> tuple[str, str]:
    """The querier, also the headless service's endpoint."""
    name = exec_pod(core, ns, hostname="dns-querier-1", subdomain="dns-test-service")
    core.patch_namespaced_pod(name, ns, {"metadata": {"labels": {"dns-test": "true"}}})
    pod = wait_for(lambda: (lambda p: p if p.status.pod_ip else None)(core.read_namespaced_pod(name, ns)),
                   what="pod IP")
    return name, pod.status.pod_ip


def _srv_targets(output: str) -> set[str]:
    return {line.split("service =", 1)[1].split()[-1] for line in output.splitlines() if "service =" in line}


@row("DNS, cluster", release="v1.9", needs="POD",
     codename="[sig-network] DNS should provide DNS for the cluster")
def test_dns_for_the_cluster(core, kubectl, ns, dns):
    pod = exec_pod(core, ns)
    kubernetes_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    name = f"kubernetes.default.svc.{ZONE}"
    assert wait_for(lambda: kubernetes_ip in addresses(nslookup(kubectl, ns, pod, name), name), timeout=60,
                    what=f"{name} resolved")


@row("DNS, services", release="v1.9", needs="CTRL+POD",
     codename="[sig-network] DNS should provide DNS for services")
def test_dns_for_services(core, kubectl, ns, dns):
    headless, regular_ip = _services(core, ns)
    pod, pod_ip = _probe_pod(core, ns)
    fqdn = f"{headless}.{ns}.svc.{ZONE}"
    wait_for(lambda: pod_ip in addresses(nslookup(kubectl, ns, pod, fqdn), fqdn), timeout=60,
             what=f"{fqdn} -> the ready pod")
    # the querier's hostname and subdomain name it in the headless service's records
    assert _srv_targets(nslookup(kubectl, ns, pod, f"_http._tcp.{fqdn}", "srv")) == {f"dns-querier-1.{fqdn}"}
    host = f"dns-querier-1.{fqdn}"
    assert addresses(nslookup(kubectl, ns, pod, host), host) == {pod_ip}
    assert _srv_targets(nslookup(kubectl, ns, pod, f"_http._tcp.test-service-2.{ns}.svc.{ZONE}", "srv")) == \
        {f"test-service-2.{ns}.svc.{ZONE}"}
    ptr = kubectl("exec", "-n", ns, pod, "--", "nslookup", regular_ip, check=False).stdout
    assert f"name = test-service-2.{ns}.svc.{ZONE}" in ptr


def _resolved_by_libc(kubectl, ns: str, pod: str, name: str) -> str:
    """The address the pod's C library resolves `name` to (its resolv.conf search list and
    ndots apply, as for any program): busybox nc names it when the connection is refused;
    the address is the querier pod itself, on the local bridge."""
    out = kubectl("exec", "-n", ns, pod, "--", "timeout", "5", "nc", "-w", "2", name, "81", check=False)
    text = out.stdout + out.stderr
    return text.split("(", 1)[1].split(")", 1)[0] if "can't connect to remote host (" in text else ""


def _srv_with_search(kubectl, ns: str, pod: str, partial: str) -> set[str]:
    """dig +search, as upstream's probe does: the pod's search list completes the name."""
    resolv = kubectl("exec", "-n", ns, pod, "--", "cat", "/etc/resolv.conf").stdout
    searches = next((ln.split()[1:] for ln in resolv.splitlines() if ln.startswith("search")), [])
    for domain in searches:
        found = _srv_targets(nslookup(kubectl, ns, pod, f"{partial}.{domain}", "srv"))
        if found:
            return found
    return set()


@row("DNS, PQDN for services", release="v1.17", needs="CTRL+POD",
     codename="[sig-network] DNS should resolve DNS of partial qualified names for services [LinuxOnly]")
def test_dns_partial_qualified_names(core, kubectl, ns, dns):
    headless, _ = _services(core, ns)
    pod, pod_ip = _probe_pod(core, ns)
    fqdn = f"{headless}.{ns}.svc.{ZONE}"
    wait_for(lambda: pod_ip in addresses(nslookup(kubectl, ns, pod, fqdn), fqdn), timeout=60,
             what=f"{fqdn} -> the ready pod")
    for partial in (headless, f"{headless}.{ns}", f"{headless}.{ns}.svc"):
        # the search list (<ns>.svc.zone svc.zone zone) completes the name
        assert _resolved_by_libc(kubectl, ns, pod, partial) == pod_ip, partial
    assert _srv_with_search(kubectl, ns, pod, f"_http._tcp.{headless}.{ns}.svc") == {f"dns-querier-1.{fqdn}"}
    assert _srv_with_search(kubectl, ns, pod, f"_http._tcp.test-service-2.{ns}.svc") == \
        {f"test-service-2.{ns}.svc.{ZONE}"}


@row("DNS, for ExternalName Services", release="v1.15", needs="POD",
     codename="[sig-network] DNS should provide DNS for ExternalName services")
def test_dns_for_external_name_services(core, kubectl, ns, dns):
    name = "dns-test-service-3"
    core.create_namespaced_service(ns, {"metadata": {"name": name},
                                        "spec": {"type": "ExternalName", "externalName": "foo.example.com"}})
    fqdn = f"{name}.{ns}.svc.{ZONE}"
    pod = exec_pod(core, ns)

    def cname() -> str:
        out = nslookup(kubectl, ns, pod, fqdn, "cname")
        return next((ln.split("canonical name =", 1)[1].strip() for ln in out.splitlines()
                     if "canonical name =" in ln), "")

    wait_for(lambda: cname() == "foo.example.com", timeout=60, what="CNAME foo.example.com")
    core.patch_namespaced_service(name, ns, {"spec": {"externalName": "bar.example.com"}})
    wait_for(lambda: cname() == "bar.example.com", timeout=60, what="CNAME bar.example.com")
    svc = core.patch_namespaced_service(name, ns, {"spec": {
        "type": "ClusterIP", "externalName": None, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})
    wait_for(lambda: svc.spec.cluster_ip in addresses(nslookup(kubectl, ns, pod, fqdn), fqdn), timeout=60,
             what="A record of the ClusterIP")


@row("DNS, custom dnsConfig", release="v1.17", needs="POD",
     codename="[sig-network] DNS should support configurable pod DNS nameservers")
def test_dns_configurable_nameservers(core, kubectl, ns):
    pod = exec_pod(core, ns, dnsPolicy="None",
                   dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["resolv.conf.local"]})
    resolv = kubectl("exec", "-n", ns, pod, "--", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 1.1.1.1" in resolv.splitlines()
    assert any(ln.startswith("search") and "resolv.conf.local" in ln.split() for ln in resolv.splitlines())


def _hostname_pod(core, ns: str, hostname: str, subdomain: str, labels: dict | None = None) -> tuple[str, str]:
    name = exec_pod(core, ns, hostname=hostname, subdomain=subdomain)
    if labels:
        core.patch_namespaced_pod(name, ns, {"metadata": {"labels": labels}})
    pod = wait_for(lambda: (lambda p: p if p.status.pod_ip else None)(core.read_namespaced_pod(name, ns)),
                   what="pod IP")
    return name, pod.status.pod_ip


def _headless(core, ns: str, name: str, selector: dict) -> None:
    """upstream's CreateServiceSpec(name, "", true, selector): headless, port http 80"""
    core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "clusterIP": "None", "selector": selector, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})


@row("DNS, cluster", release="v1.14", needs="POD",
     codename="[sig-network] DNS should provide /etc/hosts entries for the cluster [LinuxOnly]")
def test_dns_etc_hosts_entries(core, kubectl, ns):
    """The pod's own FQDN and host name resolve through its /etc/hosts (no such Service exists)."""
    pod, pod_ip = _hostname_pod(core, ns, "dns-querier-1", "dns-test-service")
    fqdn = f"dns-querier-1.dns-test-service.{ns}.svc.{ZONE}"
    hosts = kubectl("exec", "-n", ns, pod, "--", "cat", "/etc/hosts").stdout
    assert f"{pod_ip}\t{fqdn}\tdns-querier-1" in hosts.splitlines(), hosts
    for name in (fqdn, "dns-querier-1"):
        assert _resolved_by_libc(kubectl, ns, pod, name) == pod_ip, name


@row("DNS, resolve the hostname", release="v1.15", needs="CTRL+POD",
     codename="[sig-network] DNS should provide DNS for pods for Hostname [LinuxOnly]")
def test_dns_for_pods_hostname(core, kubectl, ns, dns):
    selector = {"dns-test-hostname-attribute": "true"}
    _headless(core, ns, "dns-test-service-2", selector)
    pod, pod_ip = _hostname_pod(core, ns, "dns-querier-2", "dns-test-service-2", selector)
    fqdn = f"dns-querier-2.dns-test-service-2.{ns}.svc.{ZONE}"
    for name in (fqdn, "dns-querier-2"):
        assert wait_for(lambda: _resolved_by_libc(kubectl, ns, pod, name) == pod_ip, timeout=60,
                        what=f"{name} -> {pod_ip}")


@row("DNS, resolve the subdomain", release="v1.15", needs="CTRL+POD",
     codename="[sig-network] DNS should provide DNS for pods for Subdomain")
def test_dns_for_pods_subdomain(core, kubectl, ns, dns):
    """The pod's FQDN and its subdomain (the headless Service) are A records of the cluster DNS."""
    selector = {"dns-test-hostname-attribute": "true"}
    _headless(core, ns, "dns-test-service-2", selector)
    pod, pod_ip = _hostname_pod(core, ns, "dns-querier-2", "dns-test-service-2", selector)
    for name in (f"dns-querier-2.dns-test-service-2.{ns}.svc.{ZONE}", f"dns-test-service-2.{ns}.svc.{ZONE}"):
        wait_for(lambda: addresses(nslookup(kubectl, ns, pod, name), name) == {pod_ip}, timeout=60,
                 what=f"A {name} -> {pod_ip}")
