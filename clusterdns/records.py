"""The cluster's DNS records, from Services, EndpointSlices and Pods (pure).

Follows the Kubernetes DNS specification (kubernetes/dns docs/specification.md),
schema version 1.1.0, for zone Z (cluster.local):

  <svc>.<ns>.svc.Z                A   ClusterIP; headless: one per ready endpoint
  <host>.<svc>.<ns>.svc.Z         A   a headless endpoint (its hostname, else a-b-c-d)
  _<port>._<proto>.<svc>.<ns>.svc.Z SRV  named ports (headless: one per endpoint)
  <svc>.<ns>.svc.Z                CNAME  ExternalName
  d.c.b.a.in-addr.arpa            PTR  ClusterIPs and headless endpoints with a hostname
  <a-b-c-d>.<ns>.pod.Z            A   a pod of that namespace with that IP
  dns-version.Z                   TXT "1.1.0"

A name in the zone that exists (or has names below it) with no record of the
asked type is NOERROR with no answer; any other name in the zone is NXDOMAIN.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

SCHEMA_VERSION = "1.1.0"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass
class Answer:
    rcode: str = "NOERROR"           # NOERROR | NXDOMAIN | REFUSED (not ours: forward)
    records: list[tuple[str, str, object]] = field(default_factory=list)   # (name, type, data)


def _dashed(ip: str) -> str:
    return ip.replace(".", "-")


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def _ready(ep: dict) -> bool:
    return (ep.get("conditions") or {}).get("ready", True) is not False


class Records:
    """Built once per change of the watched objects; answers by dictionary lookups."""

    def __init__(self, zone: str = "cluster.local"):
        self.zone = zone.strip(".").lower()
        self.records: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.names: set[str] = set()   # every name that exists, with the names above it up to the zone

    def _add(self, name: str, rtype: str, data) -> None:
        name = name.lower()
        if data not in self.records[name][rtype]:
            self.records[name][rtype].append(data)
        self._exists(name)

    def _exists(self, name: str) -> None:
        while name.endswith(self.zone) and name not in self.names:
            self.names.add(name)
            if name == self.zone:
                break
            name = name.split(".", 1)[1]

    def build(self, services: list[dict], slices: list[dict], pods: list[dict]) -> "Records":
        z = self.zone
        self._exists(f"svc.{z}")
        self._exists(f"pod.{z}")
        self._add(f"dns-version.{z}", "TXT", SCHEMA_VERSION)
        by_service: dict[str, list[dict]] = defaultdict(list)
        for s in slices:
            meta = s.get("metadata") or {}
            name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
            if name and s.get("addressType", "IPv4") == "IPv4":
                by_service[f"{meta.get('namespace')}/{name}"].append(s)
        for svc in services:
            self._service(svc, by_service.get(f"{svc['metadata'].get('namespace')}/{svc['metadata']['name']}", []))
        for pod in pods:
            ns = pod["metadata"].get("namespace")
            for ip in [i.get("ip") for i in (pod.get("status") or {}).get("podIPs") or []] or \
                    [(pod.get("status") or {}).get("podIP")]:
                if ip and ":" not in ip:
                    self._add(f"{_dashed(ip)}.{ns}.pod.{z}", "A", ip)
        return self

    def _service(self, svc: dict, slices: list[dict]) -> None:
        meta, spec = svc["metadata"], svc.get("spec") or {}
        base = f"{meta['name']}.{meta.get('namespace')}.svc.{self.zone}"
        if spec.get("type") == "ExternalName":
            if spec.get("externalName"):
                self._add(base, "CNAME", spec["externalName"].rstrip(".").lower())
            return
        ips = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None" and ":" not in ip]
        if ips:
            for ip in ips:
                self._add(base, "A", ip)
                self._add(reverse_name(ip), "PTR", base)
            for p in spec.get("ports") or []:
                if p.get("name"):
                    self._add(f"_{p['name']}._{(p.get('protocol') or 'TCP').lower()}.{base}", "SRV",
                              (int(p["port"]), base))
            return
        # headless: the ready endpoints themselves
        self._exists(base)
        for s in slices:
            ports = [p for p in s.get("ports") or [] if p.get("name") and p.get("port")]
            for ep in s.get("endpoints") or []:
                if not _ready(ep) and not spec.get("publishNotReadyAddresses"):
                    continue
                for ip in ep.get("addresses") or []:
                    host = ep.get("hostname") or _dashed(ip)
                    target = f"{host}.{base}"
                    self._add(base, "A", ip)
                    self._add(target, "A", ip)
                    if ep.get("hostname"):
                        self._add(reverse_name(ip), "PTR", target)
                    for p in ports:
                        self._add(f"_{p['name']}._{(p.get('protocol') or 'TCP').lower()}.{base}", "SRV",
                                  (int(p["port"]), target))

    def ours(self, name: str) -> bool:
        name = name.rstrip(".").lower()
        return name == self.zone or name.endswith("." + self.zone) or name in self.records

    def answer(self, qname: str, qtype: str, depth: int = 0) -> Answer:
        """depth: CNAMEs followed so far (a target in the zone is answered along, as CoreDNS does)."""
        name = qname.rstrip(".").lower()
        if not self.ours(name):
            return Answer("REFUSED")
        found = self.records.get(name)
        if found is None:
            return Answer("NOERROR" if name in self.names else "NXDOMAIN")
        out: list[tuple[str, str, object]] = []
        if "CNAME" in found and qtype != "CNAME":
            target = found["CNAME"][0]
            chased = self.answer(target, qtype, depth + 1) if depth < 8 and self.ours(target) else Answer()
            return Answer(records=[(name, "CNAME", target)] + chased.records)
        for rtype, datas in found.items():
            if qtype in (rtype, "ANY"):
                out += [(name, rtype, d) for d in datas]
        return Answer(records=out)

    def additional(self, records: list[tuple[str, str, object]]) -> list[tuple[str, str, object]]:
        """A records of SRV targets, as the specification asks for."""
        out = []
        for _, rtype, data in records:
            if rtype == "SRV":
                target = data[1]
                out += [(target, "A", ip) for ip in (self.records.get(target) or {}).get("A", [])]
        return out
