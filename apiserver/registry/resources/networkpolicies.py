"""NetworkPolicies (networking.k8s.io/v1): defaulted and validated as upstream;
stored for a network plugin to enforce (pocketkube's proxy does not)."""
from __future__ import annotations

import ipaddress
from datetime import datetime

from apiserver.machinery import labels, names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from .ingresses import GROUP

POLICY_TYPES = ("Egress", "Ingress")
PROTOCOLS = ("SCTP", "TCP", "UDP")


def _selector(sel, path: str) -> list[Cause]:
    if sel is None:
        return []
    try:
        labels.from_label_selector_object(sel)
    except (labels.SelectorError, ValueError) as e:
        return [field.invalid(path, "", str(e))]
    return []


def _port(p: dict, path: str) -> list[Cause]:
    causes = field.supported(field.child(path, "protocol"), p.get("protocol"), PROTOCOLS)
    port, end = p.get("port"), p.get("endPort")
    if isinstance(port, int) and not isinstance(port, bool):
        causes += field.each_invalid(field.child(path, "port"), port, names.is_valid_port_num(port))
    elif isinstance(port, str):
        causes += field.each_invalid(field.child(path, "port"), port, names.is_valid_port_name(port))
    if end is not None:
        ep = field.child(path, "endPort")
        if not isinstance(port, int) or isinstance(port, bool):
            causes.append(field.forbidden(ep, "may not be specified when `port` is non-numeric" if port is not None
                                          else "may not be specified when `port` is not specified"))
        elif isinstance(end, int) and end < port:
            causes.append(field.invalid(ep, end, "must be greater than or equal to `port`"))
        elif isinstance(end, int):
            causes += field.each_invalid(ep, end, names.is_valid_port_num(end))
    return causes


def _ip_block(block: dict, path: str) -> list[Cause]:
    cidr = block.get("cidr") or ""
    cp = field.child(path, "cidr")
    if not cidr:
        return [field.required(cp, "")]
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return [field.invalid(cp, cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    causes: list[Cause] = []
    for i, ex in enumerate(block.get("except") or []):
        xp = field.index(field.child(path, "except"), i)
        try:
            sub = ipaddress.ip_network(ex, strict=False)
        except ValueError:
            causes.append(field.invalid(xp, ex, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
            continue
        if sub.version != net.version or not sub.subnet_of(net) or sub.prefixlen <= net.prefixlen:
            causes.append(field.invalid(xp, ex, "must be a strict subset of `cidr`"))
    return causes


def _peer(peer: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    present = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    for k in ("podSelector", "namespaceSelector"):
        causes += _selector(peer.get(k), field.child(path, k))
    if peer.get("ipBlock") is not None:
        causes += _ip_block(peer["ipBlock"], field.child(path, "ipBlock"))
    if not present:
        causes.append(field.required(path, "must specify a peer"))
    elif len(present) > 1 and "ipBlock" in present:
        causes.append(field.forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def _rules(rules, path: str, peers_key: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(rules or []):
        if not isinstance(rule, dict):
            continue
        rp = field.index(path, i)
        for j, p in enumerate(rule.get("ports") or []):
            if isinstance(p, dict):
                causes += _port(p, field.index(field.child(rp, "ports"), j))
        for j, peer in enumerate(rule.get(peers_key) or []):
            if isinstance(peer, dict):
                causes += _peer(peer, field.index(field.child(rp, peers_key), j))
    return causes


class NetworkPolicyStrategy(Strategy):
    serves = ((GROUP, "networkpolicies"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        for key in ("ingress", "egress"):
            for rule in spec.get(key) or []:
                for p in (rule or {}).get("ports") or []:
                    if isinstance(p, dict):
                        p.setdefault("protocol", "TCP")
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = _selector(spec.get("podSelector"), "spec.podSelector")
        causes += _rules(spec.get("ingress"), "spec.ingress", "from")
        causes += _rules(spec.get("egress"), "spec.egress", "to")
        types = spec.get("policyTypes") or []
        for i, t in enumerate(types):
            causes += field.supported(field.index("spec.policyTypes", i), t, POLICY_TYPES)
        if len(types) > 2:
            causes.append(field.invalid("spec.policyTypes", "", "may not specify more than two policyTypes"))
        return causes

    def columns(self) -> list[dict]:
        return [name_column(), col("Pod-Selector", doc("io.k8s.api.networking.v1.NetworkPolicySpec", "podSelector")),
                age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        sel = (obj.get("spec") or {}).get("podSelector")
        try:
            shown = str(labels.from_label_selector_object(sel)) if sel else ""
        except (labels.SelectorError, ValueError):
            shown = ""
        return [name_of(obj), shown or "<none>", age_of(obj, now)]
