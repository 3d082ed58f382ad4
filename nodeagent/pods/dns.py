"""A pod's resolv.conf, as the kubelet writes it (pure).

  ClusterFirst (the default)   cluster DNS, search <ns>.svc.<domain> svc.<domain> <domain>
                               plus the host's, options ndots:5; a hostNetwork pod, or
                               a node agent without --cluster-dns, gets Default instead
  ClusterFirstWithHostNet      ClusterFirst, also for hostNetwork pods
  Default                      the host's resolv.conf
  None                         only what dnsConfig says
dnsConfig is then merged in: nameservers and searches appended (no duplicates),
options replacing same-named ones. Limits as upstream: 3 nameservers, 32 searches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"nameserver {n}" for n in self.nameservers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + "\n"


def parse_resolv_conf(text: str) -> ResolvConf:
    rc = ResolvConf()
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith(("#", ";")):
            continue
        if parts[0] == "nameserver" and len(parts) > 1:
            rc.nameservers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            rc.searches = parts[1:]
        elif parts[0] == "options":
            rc.options += parts[1:]
    return rc


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(base: list[str], extra: list[dict]) -> list[str]:
    opts = {o.split(":", 1)[0]: o for o in base}
    for o in extra:
        name = o.get("name")
        if name:
            opts[name] = f"{name}:{o['value']}" if o.get("value") is not None else name
    return list(opts.values())


def pod_resolv_conf(pod: dict, *, cluster_dns: list[str], cluster_domain: str, host: ResolvConf) -> ResolvConf:
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    if policy == "ClusterFirst" and host_network:
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and not cluster_dns:
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
        ns = pod["metadata"].get("namespace") or "default"
        d = cluster_domain.strip(".")
        rc = ResolvConf(list(cluster_dns), _unique([f"{ns}.svc.{d}", f"svc.{d}", d, *host.searches]), ["ndots:5"])
    elif policy == "None":
        rc = ResolvConf()
    else:
        rc = ResolvConf(list(host.nameservers), list(host.searches), list(host.options))
    cfg = spec.get("dnsConfig") or {}
    rc.nameservers = _unique(rc.nameservers + list(cfg.get("nameservers") or []))[:MAX_NAMESERVERS]
    rc.searches = _unique(rc.searches + list(cfg.get("searches") or []))[:MAX_SEARCHES]
    rc.options = _merge_options(rc.options, cfg.get("options") or [])
    return rc


def is_host_default(pod: dict, cluster_dns: list[str]) -> bool:
    """Whether the pod simply gets the host's resolv.conf (what Podman gives by default)."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if spec.get("dnsConfig"):
        return False
    return policy == "Default" or (policy == "ClusterFirst" and (spec.get("hostNetwork") or not cluster_dns)) \
        or (policy == "ClusterFirstWithHostNet" and not cluster_dns)
