"""clusterdns.records and the wire answers of clusterdns.server.Resolver (no sockets)."""
from __future__ import annotations

from dnslib import QTYPE, RCODE, DNSRecord

from clusterdns.main import host_upstreams
from clusterdns.records import Records
from clusterdns.server import Resolver

Z = "cluster.local"


def svc(name, ns="default", ip="10.96.0.50", ports=None, **spec):
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}], **spec}}


def eslice(service, *endpoints, ns="default", ports=None):
    return {"metadata": {"namespace": ns, "name": f"{service}-x", "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4", "ports": ports or [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": list(endpoints)}


def ep(ip, ready=True, hostname=None):
    out = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        out["hostname"] = hostname
    return out


def pod(ip, ns="default"):
    return {"metadata": {"name": "p", "namespace": ns}, "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


def build():
    services = [svc("web"), svc("db", ip="None"), svc("ext", type="ExternalName", externalName="example.org"),
                svc("udp", ip="10.96.0.53", ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])]
    slices = [eslice("db", ep("10.88.0.7", hostname="db-0"), ep("10.88.0.8"), ep("10.88.0.9", ready=False))]
    return Records(Z).build(services, slices, [pod("10.88.0.7")])


def data(ans):
    return sorted((n, t, d) for n, t, d in ans.records)


def test_cluster_ip_service_a_and_srv_and_ptr():
    r = build()
    assert data(r.answer("web.default.svc.cluster.local.", "A")) == [("web.default.svc.cluster.local", "A",
                                                                       "10.96.0.50")]
    srv = r.answer("_http._tcp.web.default.svc.cluster.local", "SRV")
    assert data(srv) == [("_http._tcp.web.default.svc.cluster.local", "SRV", (80, "web.default.svc.cluster.local"))]
    assert r.additional(srv.records) == [("web.default.svc.cluster.local", "A", "10.96.0.50")]
    assert data(r.answer("50.0.96.10.in-addr.arpa", "PTR"))[0][2] == "web.default.svc.cluster.local"
    assert data(r.answer("_dns._udp.udp.default.svc.cluster.local", "SRV"))[0][2] == (53, "udp.default.svc.cluster.local")


def test_headless_one_a_per_ready_endpoint_and_hostnames():
    r = build()
    assert sorted(d for _, _, d in r.answer("db.default.svc.cluster.local", "A").records) == ["10.88.0.7", "10.88.0.8"]
    assert data(r.answer("db-0.db.default.svc.cluster.local", "A"))[0][2] == "10.88.0.7"
    assert data(r.answer("10-88-0-8.db.default.svc.cluster.local", "A"))[0][2] == "10.88.0.8"
    targets = sorted(d[1] for _, _, d in r.answer("_http._tcp.db.default.svc.cluster.local", "SRV").records)
    assert targets == ["10-88-0-8.db.default.svc.cluster.local", "db-0.db.default.svc.cluster.local"]
    assert data(r.answer("7.0.88.10.in-addr.arpa", "PTR"))[0][2] == "db-0.db.default.svc.cluster.local"


def test_external_name_pod_records_version_and_negative_answers():
    r = build()
    assert data(r.answer("ext.default.svc.cluster.local", "A")) == [("ext.default.svc.cluster.local", "CNAME",
                                                                       "example.org")]
    inside = Records(Z).build([svc("web"), svc("alias", type="ExternalName",
                                                externalName="web.default.svc.cluster.local")], [], [])
    assert inside.answer("alias.default.svc.cluster.local", "A").records == [
        ("alias.default.svc.cluster.local", "CNAME", "web.default.svc.cluster.local"),
        ("web.default.svc.cluster.local", "A", "10.96.0.50")]
    assert data(r.answer("10-88-0-7.default.pod.cluster.local", "A"))[0][2] == "10.88.0.7"
    assert r.answer("10-88-0-7.other.pod.cluster.local", "A").rcode == "NXDOMAIN"
    assert data(r.answer("dns-version.cluster.local", "TXT"))[0][2] == "1.1.0"
    assert r.answer("nope.default.svc.cluster.local", "A").rcode == "NXDOMAIN"
    no_data = r.answer("web.default.svc.cluster.local", "AAAA")
    assert (no_data.rcode, no_data.records) == ("NOERROR", [])
    assert r.answer("default.svc.cluster.local", "A").rcode == "NOERROR"   # a name with names below it
    assert r.answer("example.com", "A").rcode == "REFUSED"                 # not ours: forwarded
    assert r.answer("9.9.9.10.in-addr.arpa", "PTR").rcode == "REFUSED"


def test_resolver_wire_answers_and_cache():
    records = build()
    res = Resolver(lambda: records)
    q = DNSRecord.question("web.default.svc.cluster.local", "A")
    reply = DNSRecord.parse(res.answer(q.pack()))
    assert reply.header.id == q.header.id and reply.header.aa == 1
    assert [str(a.rdata) for a in reply.rr] == ["10.96.0.50"]
    q2 = DNSRecord.question("web.default.svc.cluster.local", "A")   # new ID, same question: from the cache
    assert len(res.cache) == 1
    assert DNSRecord.parse(res.answer(q2.pack())).header.id == q2.header.id
    nx = DNSRecord.parse(res.answer(DNSRecord.question("x.default.svc.cluster.local", "A").pack()))
    assert nx.header.rcode == RCODE.NXDOMAIN and nx.auth[0].rtype == QTYPE.SOA
    assert res.answer(DNSRecord.question("example.com", "A").pack()) is None
    sf = DNSRecord.parse(Resolver.servfail(DNSRecord.question("example.com", "A").pack()))
    assert sf.header.rcode == RCODE.SERVFAIL


def test_big_udp_answers_are_truncated():
    many = [ep(f"10.88.1.{i}") for i in range(60)]
    records = Records(Z).build([svc("big", ip="None")], [eslice("big", *many)], [])
    q = DNSRecord.question("big.default.svc.cluster.local", "A").pack()
    full = Resolver(lambda: records).answer(q)
    assert len(full) > 512
    cut = DNSRecord.parse(Resolver.truncated(q, full))
    assert cut.header.tc == 1 and not cut.rr


def test_host_upstreams_skip_loopback_and_self(tmp_path):
    f = tmp_path / "resolv.conf"
    f.write_text("nameserver 127.0.0.53\nnameserver 192.0.2.2\nnameserver 10.255.255.53\nsearch x\n")
    assert host_upstreams("192.0.2.2", str(f)) == ["10.255.255.53"]
