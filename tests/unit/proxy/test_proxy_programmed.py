"""proxy.programmed: per-port state gives the same table as a full render, and
transactions that touch only what changed."""
from __future__ import annotations

from proxy.model import snapshot
from proxy.programmed import Programmed
from proxy.rules import Config, render, transaction

CFG = Config(table="t", service_cidr="10.96.0.0/12", cluster_cidr="10.88.0.0/16")


def svc(name, ip, **spec):
    return {"metadata": {"namespace": "default", "name": name},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "ports": [{"name": "http", "port": 80}], **spec}}


def eps(*ips):
    return [{"addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
             "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]}]


def test_same_table_as_a_full_render_and_small_deltas():
    services = [svc("a", "10.96.0.1"), svc("b", "10.96.0.2")]
    slices = {"default/a": eps("10.88.0.5", "10.88.0.6"), "default/b": eps("10.88.0.6")}
    p = Programmed(CFG)
    snap = snapshot(services, slices, "n1")
    before, after = p.update(snap.ports)
    assert before.chains == {} and p.desired() == render(snap, CFG)
    # b's endpoint moves: only b's chain and the hairpin element of its new address change;
    # 10.88.0.6 stays (a still uses it)
    slices["default/b"] = eps("10.88.0.7")
    snap2 = snapshot(services, slices, "n1")
    before, after = p.update(snap2.ports)
    assert p.desired() == render(snap2, CFG)
    script = transaction(before, after, CFG)
    assert "default/a" not in script
    assert "add element ip t hairpin-endpoints { 10.88.0.7 . 10.88.0.7 : jump mark-for-masquerade }" in script
    assert "10.88.0.6 . 10.88.0.6" not in script
    # nothing changed: nothing to do
    assert transaction(*p.update(snap2.ports), CFG) == "\n"
    # a goes: its chain, its service-ips element and the now unused hairpin element go
    snap3 = snapshot(services[1:], slices, "n1")
    script = transaction(*p.update(snap3.ports), CFG)
    assert p.desired() == render(snap3, CFG)
    assert "delete element ip t service-ips { 10.96.0.1 . tcp . 80 }" in script
    (gone,) = [ln for ln in script.splitlines() if ln.startswith("delete element ip t hairpin-endpoints")]
    assert sorted(e.strip() for e in gone.split("{")[1].rstrip(" }").split(",")) == ["10.88.0.5 . 10.88.0.5", "10.88.0.6 . 10.88.0.6"]
    assert script.rstrip().splitlines()[-1].startswith("delete chain ip t service-")
