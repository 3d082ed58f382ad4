"""nodeagent.pods.dns: the pod's resolv.conf for each dnsPolicy, as the kubelet writes it."""
from __future__ import annotations

from nodeagent.pods.dns import is_host_default, parse_resolv_conf, pod_resolv_conf

HOST = parse_resolv_conf("# host\nnameserver 10.255.255.53\nsearch corp.example\noptions edns0\n")


def pod(policy=None, host_network=False, dns_config=None, ns="team"):
    spec = {"hostNetwork": host_network}
    if policy:
        spec["dnsPolicy"] = policy
    if dns_config:
        spec["dnsConfig"] = dns_config
    return {"metadata": {"namespace": ns}, "spec": spec}


def conf(p, dns=("10.96.0.10",)):
    return pod_resolv_conf(p, cluster_dns=list(dns), cluster_domain="cluster.local", host=HOST).text()


def test_cluster_first_is_the_default():
    assert conf(pod()) == ("nameserver 10.96.0.10\n"
                           "search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
                           "options ndots:5\n")
    assert not is_host_default(pod(), ["10.96.0.10"])


def test_host_network_cluster_first_gets_the_hosts_unless_with_host_net():
    assert conf(pod("ClusterFirst", host_network=True)) == HOST.text()
    assert is_host_default(pod("ClusterFirst", host_network=True), ["10.96.0.10"])
    assert conf(pod("ClusterFirstWithHostNet", host_network=True)).startswith("nameserver 10.96.0.10\n")


def test_default_and_no_cluster_dns():
    assert conf(pod("Default")) == "nameserver 10.255.255.53\nsearch corp.example\noptions edns0\n"
    assert is_host_default(pod(), [])
    assert conf(pod(), dns=()) == HOST.text()


def test_none_with_dns_config_and_merging():
    cfg = {"nameservers": ["1.2.3.4"], "searches": ["ns1.svc.cluster.local", "my.dns.search.suffix"],
           "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}
    assert conf(pod("None", dns_config=cfg)) == ("nameserver 1.2.3.4\n"
                                                 "search ns1.svc.cluster.local my.dns.search.suffix\n"
                                                 "options ndots:2 edns0\n")
    merged = conf(pod(dns_config=cfg))
    assert merged.splitlines()[0:2] == ["nameserver 10.96.0.10", "nameserver 1.2.3.4"]
    assert "options ndots:2 edns0" in merged
    assert not is_host_default(pod("Default", dns_config=cfg), ["10.96.0.10"])


def test_limits():
    cfg = {"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3"]}
    assert conf(pod(dns_config=cfg)).count("nameserver") == 3
