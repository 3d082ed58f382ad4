"""proxy.model / proxy.rules / proxy.conntrack / proxy.servicelb: state in, text out (no I/O)."""
from __future__ import annotations

from proxy.conntrack import stale_entries
from proxy.model import Endpoint, Snapshot, service_ports, snapshot, usable_endpoints
from proxy.rules import Config, render, service_chain, transaction
from proxy.servicelb import wanted_ingress

CFG = Config(table="t", service_cidr="10.96.0.0/12", cluster_cidr="10.88.0.0/16")


def svc(name="web", *, ports=None, type_="ClusterIP", ip="10.96.0.50", **spec) -> dict:
    return {"metadata": {"namespace": "default", "name": name},
            "spec": {"type": type_, "clusterIP": ip, "ports": ports or [{"name": "http", "port": 80}], **spec}}


def eps(*items, port=8080, name="http", protocol="TCP") -> dict:
    """items: (ip, node, ready[, serving, terminating])"""
    out = []
    for ip, node, ready, *rest in items:
        cond = {"ready": ready}
        if rest:
            cond.update(serving=rest[0], terminating=rest[1])
        out.append({"addresses": [ip], "nodeName": node, "conditions": cond})
    return {"addressType": "IPv4", "ports": [{"name": name, "port": port, "protocol": protocol}], "endpoints": out}


def test_only_ready_endpoints_then_serving_terminating_fallback():
    s = [eps(("10.88.0.5", "n1", True), ("10.88.0.6", "n1", False))]
    assert [e.ip for e in usable_endpoints(s, "http", "tcp")] == ["10.88.0.5"]
    s = [eps(("10.88.0.5", "n1", False, True, True), ("10.88.0.6", "n1", False, False, True))]
    assert [e.ip for e in usable_endpoints(s, "http", "tcp")] == ["10.88.0.5"]
    assert usable_endpoints(s, "other", "tcp") == []


def test_headless_and_external_name_are_not_programmed():
    assert service_ports(svc(ip="None"), [], "n1") == []
    assert service_ports(svc(type_="ExternalName", externalName="x.example"), [], "n1") == []


def test_cluster_ip_chain_lb_and_masquerade():
    snap = snapshot([svc()], {"default/web": [eps(("10.88.0.5", "n1", True), ("10.88.0.6", "n2", True))]}, "n1")
    d = render(snap, CFG)
    chain = service_chain(snap.ports[0])
    assert d.maps["service-ips"] == {"10.96.0.50 . tcp . 80": f"goto {chain}"}
    rules = d.chains[chain]
    assert rules[0] == "ip daddr 10.96.0.50 tcp dport 80 ip saddr != 10.88.0.0/16 jump mark-for-masquerade"
    # uniform: the first endpoint with probability 1/2, else the second
    # (DNAT in the service chain: no chain per endpoint without affinity)
    assert rules[-2] == "numgen random mod 2 == 0 meta l4proto tcp dnat to 10.88.0.5:8080"
    assert rules[-1] == "meta l4proto tcp dnat to 10.88.0.6:8080"
    assert list(d.chains) == [chain]
    # hairpin: an endpoint reaching itself is masqueraded (looked up after DNAT, in postrouting)
    assert d.maps["hairpin-endpoints"] == {"10.88.0.5 . 10.88.0.5": "jump mark-for-masquerade",
                                           "10.88.0.6 . 10.88.0.6": "jump mark-for-masquerade"}


def test_no_endpoints_rejects_and_nodeport_too():
    snap = snapshot([svc(type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}])], {}, "n1")
    d = render(snap, CFG)
    assert d.maps["service-ips"] == {} and d.chains == {}
    assert d.maps["no-endpoint-services"] == {"10.96.0.50 . tcp . 80": "goto reject-chain"}
    assert d.maps["no-endpoint-nodeports"] == {"tcp . 30080": "goto reject-chain"}


def test_external_traffic_policy_local_uses_local_endpoints_without_masquerade():
    s = svc(type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}], externalTrafficPolicy="Local")
    snap = snapshot([s], {"default/web": [eps(("10.88.0.5", "n1", True), ("10.88.0.6", "n2", True))]}, "n1")
    sp = snap.ports[0]
    assert [e.ip for e in sp.external_endpoints] == ["10.88.0.5"] and len(sp.cluster_endpoints) == 2
    d = render(snap, CFG)
    ext = d.maps["service-nodeports"]["tcp . 30080"].removeprefix("goto ")
    # clients elsewhere: this node's endpoint, their address kept (this host's own: see below)
    assert d.chains[ext][-1] == "meta l4proto tcp dnat to 10.88.0.5:8080" and len(d.chains[ext]) == 3
    assert not any("mark-for-masquerade" in r for r in d.chains[ext] if not r.startswith("fib saddr type local"))
    # no local endpoint: dropped, not rejected (the service has endpoints elsewhere)
    snap = snapshot([s], {"default/web": [eps(("10.88.0.6", "n2", True))]}, "n1")
    assert render(snap, CFG).maps["no-endpoint-nodeports"] == {"tcp . 30080": "drop"}


def test_internal_traffic_policy_local():
    s = svc(internalTrafficPolicy="Local")
    snap = snapshot([s], {"default/web": [eps(("10.88.0.5", "n1", True), ("10.88.0.6", "n2", True))]}, "n1")
    assert [e.ip for e in snap.ports[0].cluster_endpoints] == ["10.88.0.5"]


def test_session_affinity_sets_and_lookups():
    s = svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}})
    snap = snapshot([s], {"default/web": [eps(("10.88.0.5", "n1", True))]}, "n1")
    d = render(snap, CFG)
    (name, decl), = d.sets.items()
    assert decl == "type ipv4_addr; flags dynamic,timeout; timeout 30s;"
    rules = [r for rs in d.chains.values() for r in rs]
    assert f"update @{name} {{ ip saddr }}" in rules
    assert any(r.startswith(f"ip saddr @{name} goto endpoint-") for r in rules)
    # affinity keeps a chain per endpoint: it remembers the client, then DNATs
    assert d.chains[service_chain(snap.ports[0])][-1].startswith("goto endpoint-")


def test_multiport_and_udp():
    s = svc(ports=[{"name": "http", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}])
    slices = [eps(("10.88.0.5", "n1", True)), eps(("10.88.0.5", "n1", True), port=5353, name="dns", protocol="UDP")]
    snap = snapshot([s], {"default/web": slices}, "n1")
    d = render(snap, CFG)
    assert set(d.maps["service-ips"]) == {"10.96.0.50 . tcp . 80", "10.96.0.50 . udp . 53"}
    assert "meta l4proto udp dnat to 10.88.0.5:5353" in [r for rs in d.chains.values() for r in rs]


def test_transaction_first_sync_rebuilds_then_only_differences():
    one = snapshot([svc()], {"default/web": [eps(("10.88.0.5", "n1", True))]}, "n1")
    two = snapshot([svc(), svc("api", ip="10.96.0.51")],
                   {"default/web": [eps(("10.88.0.5", "n1", True))], "default/api": [eps(("10.88.0.7", "n1", True))]},
                   "n1")
    d1, d2 = render(one, CFG), render(two, CFG)
    full = transaction(None, d1, CFG)
    assert full.startswith("add table ip t\ndelete table ip t\nadd table ip t\n")
    delta = transaction(d1, d2, CFG)
    assert "delete table" not in delta and "default/web" not in delta   # web is untouched
    assert "add element ip t service-ips { 10.96.0.51 . tcp . 80 : goto service-" in delta
    back = transaction(d2, d1, CFG)
    lines = back.splitlines()
    assert lines[0] == "delete element ip t service-ips { 10.96.0.51 . tcp . 80 }"
    # stale chains: emptied, then deleted, after the map no longer points at them
    assert lines[1] == "delete element ip t hairpin-endpoints { 10.88.0.7 . 10.88.0.7 }"
    assert [ln.split()[0] for ln in lines[2:]] == ["flush", "delete"]
    assert transaction(d2, d2, CFG) == "\n"


def test_nodeports_skip_loopback_and_service_range():
    text = transaction(None, render(Snapshot(), CFG), CFG)
    assert "fib daddr type local ip daddr != { 127.0.0.0/8, 10.96.0.0/12 } meta l4proto . th dport vmap " \
           "@service-nodeports" in text
    assert "type nat hook output priority -100;" in text   # numbers: nft 1.0.6 refuses names there


def test_loadbalancer_ip_is_served_like_the_nodeport():
    s = svc(type_="LoadBalancer", ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    s["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.2"}]}}
    d = render(snapshot([s], {"default/web": [eps(("10.88.0.5", "n1", True))]}, "n1"), CFG)
    assert d.maps["service-ips"]["192.0.2.2 . tcp . 80"] == d.maps["service-nodeports"]["tcp . 30080"]


def test_udp_conntrack_entries_of_gone_endpoints_and_of_newly_served_ports():
    s = svc(ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])
    two = snapshot([s], {"default/web": [eps(("10.88.0.5", "n", True), ("10.88.0.6", "n", True),
                                              port=53, name="dns", protocol="UDP")]}, "n")
    one = snapshot([s], {"default/web": [eps(("10.88.0.5", "n", True), port=53, name="dns", protocol="UDP")]}, "n")
    none = snapshot([s], {}, "n")
    assert stale_entries(None, two) == []
    assert stale_entries(two, one) == [["-p", "udp", "--orig-dst", "10.96.0.50", "--orig-port-dst", "53",
                                        "--reply-src", "10.88.0.6", "--reply-port-src", "53"]]
    assert stale_entries(none, one) == [["-p", "udp", "--orig-dst", "10.96.0.50", "--orig-port-dst", "53"]]
    assert stale_entries(one, one) == []


def test_service_lb_status():
    s = svc(type_="LoadBalancer")
    assert wanted_ingress(s, "192.0.2.2") == [{"ip": "192.0.2.2", "ipMode": "VIP"}]
    s["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.2", "ipMode": "VIP"}]}}
    assert wanted_ingress(s, "192.0.2.2") is None
    s["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}]}}   # set by someone else: left alone
    assert wanted_ingress(s, "192.0.2.2") is None
    assert wanted_ingress(svc(), "192.0.2.2") is None
    assert wanted_ingress(svc(type_="LoadBalancer", loadBalancerClass="other"), "192.0.2.2") is None


def test_endpoints_deduplicated_across_slices():
    e = eps(("10.88.0.5", "n1", True))
    assert usable_endpoints([e, e], "http", "tcp") == [Endpoint("10.88.0.5", 8080, "n1")]


def test_udp_endpoint_moving_to_another_port_of_the_same_address_is_stale():
    s = svc(ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])
    at = lambda port: snapshot([s], {"default/web": [eps(("192.0.2.2", "n", True), port=port, name="dns",  # noqa: E731
                                                         protocol="UDP")]}, "n")
    assert stale_entries(at(5301), at(5302)) == [["-p", "udp", "--orig-dst", "10.96.0.50", "--orig-port-dst", "53",
                                                  "--reply-src", "192.0.2.2", "--reply-port-src", "5301"]]


def test_render_cache_gives_the_same_result_and_keeps_only_current_ports():
    one = snapshot([svc(), svc("api", ip="10.96.0.51")], {"default/web": [eps(("10.88.0.5", "n1", True))]}, "n1")
    cache: dict = {}
    assert render(one, CFG, cache) == render(one, CFG)
    assert set(cache) == set(one.ports)
    two = snapshot([svc()], {"default/web": [eps(("10.88.0.6", "n1", True))]}, "n1")
    assert render(two, CFG, cache) == render(two, CFG)
    assert set(cache) == set(two.ports)


def test_random_cascade_is_uniform():
    """Rule i takes 1/(n-i) of what reaches it: each of n endpoints gets 1/n."""
    from fractions import Fraction
    s = svc()
    snap = snapshot([s], {"default/web": [eps(*[(f"10.88.0.{i}", "n", True) for i in range(1, 5)])]}, "n")
    rules = render(snap, CFG).chains[service_chain(snap.ports[0])][1:]
    left, shares = Fraction(1), []
    for r in rules:
        if r.startswith("numgen"):
            mod = int(r.split()[3])
            shares.append(left / mod)
            left -= left / mod
        else:
            shares.append(left)
    assert shares == [Fraction(1, 4)] * 4


def test_localhost_nodeports_only_from_this_host_and_guarded():
    text = transaction(None, render(Snapshot(), CFG), CFG)
    assert "add rule ip t nat-output ip daddr 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports" in text
    assert "add rule ip t filter-input ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct state new drop" in text
    assert "nat-prerouting ip daddr 127.0.0.0/8" not in text
    off = Config(table="t", localhost_nodeports=False)
    assert "127.0.0.0/8 meta l4proto" not in transaction(None, render(Snapshot(), off), off)


def test_local_policy_masquerades_this_hosts_own_clients_to_any_endpoint():
    s = svc(type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}], externalTrafficPolicy="Local")
    snap = snapshot([s], {"default/web": [eps(("10.88.0.5", "n1", True), ("10.88.0.6", "n2", True))]}, "n1")
    d = render(snap, CFG)
    ext = d.maps["service-nodeports"]["tcp . 30080"].removeprefix("goto ")
    assert d.chains[ext][:2] == ("fib saddr type local jump mark-for-masquerade",
                                 f"fib saddr type local goto {service_chain(snap.ports[0])}")


def test_hairpin_pairs_apply_to_dnated_connections_only():
    text = transaction(None, render(Snapshot(), CFG), CFG)
    assert "add rule ip t nat-postrouting ct status dnat ip saddr . ip daddr vmap @hairpin-endpoints" in text
