"""The cluster DNS's metrics under CoreDNS's names, read from the raw messages (no
parse beyond the question's type and the reply's RCODE, so counting stays cheap)."""
from __future__ import annotations

from kubeclient import metrics

_REQUESTS = metrics.counter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and "
                            "family.", ("server", "zone", "proto", "family", "type"))
_RESPONSES = metrics.counter("coredns_dns_responses_total", "Counter of response status codes.",
                             ("server", "zone", "rcode"))

_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 255: "ANY"}
_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query_type(query: bytes) -> str:
    """The first question's type, by name ("other" for the rest, as CoreDNS)."""
    i = 12
    while i < len(query) and query[i] != 0:
        if query[i] & 0xC0:   # a pointer cannot start a question's name
            return "other"
        i += query[i] + 1
    if i + 3 > len(query):
        return "other"
    return _TYPES.get(int.from_bytes(query[i + 1:i + 3], "big"), "other")


def count(server: str, proto: str, query: bytes, reply: bytes) -> None:
    key = (server, ".", proto, "1", query_type(query))
    _REQUESTS.values[key] = _REQUESTS.values.get(key, 0) + 1
    rkey = (server, ".", _RCODES.get(reply[3] & 0x0F, str(reply[3] & 0x0F)) if len(reply) > 3 else "FORMERR")
    _RESPONSES.values[rkey] = _RESPONSES.values.get(rkey, 0) + 1
