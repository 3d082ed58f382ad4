"""The DNS's counters read the question's type and the reply's RCODE from raw messages."""
from __future__ import annotations

from dnslib import RCODE, DNSRecord

from clusterdns.metrics import _REQUESTS, _RESPONSES, count, query_type


def test_query_types_by_name_and_other_for_the_rest():
    assert query_type(DNSRecord.question("a.svc.cluster.local", "A").pack()) == "A"
    assert query_type(DNSRecord.question("_http._tcp.web.svc", "SRV").pack()) == "SRV"
    assert query_type(DNSRecord.question("a.b", "NAPTR").pack()) == "other"
    assert query_type(b"\x00" * 12) == "other"      # no question
    assert query_type(b"\x00" * 12 + b"\x05ab") == "other"   # cut short


def test_count_by_proto_type_and_rcode():
    q = DNSRecord.question("missing.svc.cluster.local", "AAAA")
    reply = q.reply()
    reply.header.rcode = RCODE.NXDOMAIN
    before = _REQUESTS.values.get(("dns://t:53", ".", "tcp", "1", "AAAA"), 0)
    nx = _RESPONSES.values.get(("dns://t:53", ".", "NXDOMAIN"), 0)
    count("dns://t:53", "tcp", q.pack(), reply.pack())
    assert _REQUESTS.values[("dns://t:53", ".", "tcp", "1", "AAAA")] == before + 1
    assert _RESPONSES.values[("dns://t:53", ".", "NXDOMAIN")] == nx + 1
