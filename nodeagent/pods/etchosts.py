"""A pod's /etc/hosts, as the kubelet writes it (pure).

Every container of a pod gets the same file, bind-mounted over the one Podman
would make: localhost and the IPv6 names, the pod's IP with its FQDN (when the
pod names a subdomain) and host name, then its hostAliases. A hostNetwork pod
gets the host's file, marked as managed, with its hostAliases appended. A
container that mounts something at /etc/hosts itself keeps that.
"""
from __future__ import annotations

MANAGED = "# Kubernetes-managed hosts file.\n"
MANAGED_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"
_LOCAL = ("127.0.0.1\tlocalhost\n"
          "::1\tlocalhost ip6-localhost ip6-loopback\n"
          "fe00::0\tip6-localnet\n"
          "fe00::0\tip6-mcastprefix\n"
          "fe00::1\tip6-allnodes\n"
          "fe00::2\tip6-allrouters\n")


def host_name_and_domain(pod: dict, cluster_domain: str) -> tuple[str, str]:
    """(hostname, domain): spec.hostname or the pod's name, cut to 63 characters without
    a trailing '-' or '.'; the domain <subdomain>.<ns>.svc.<cluster domain> when a
    subdomain is set, else ''."""
    spec, meta = pod.get("spec") or {}, pod["metadata"]
    hostname = (spec.get("hostname") or meta["name"])[:63].rstrip("-.")
    sub = spec.get("subdomain") or ""
    return hostname, f"{sub}.{meta['namespace']}.svc.{cluster_domain}" if sub else ""


def _aliases(pod: dict) -> str:
    aliases = (pod.get("spec") or {}).get("hostAliases") or []
    if not aliases:
        return ""
    lines = ["\n# Entries added by HostAliases.\n"]
    for a in aliases:
        names = a.get("hostnames") or []
        lines.append(f"{a.get('ip', '')}\t" + "\t".join(names) + "\n")
    return "".join(lines)


def pod_hosts_file(pod: dict, pod_ips: list[str], cluster_domain: str, host_file: str = "") -> str:
    """The file's text. `host_file` is the node's /etc/hosts (used for hostNetwork pods)."""
    if (pod.get("spec") or {}).get("hostNetwork"):
        return MANAGED_HOST_NETWORK + host_file + ("" if not host_file or host_file.endswith("\n") else "\n") \
            + _aliases(pod)
    hostname, domain = host_name_and_domain(pod, cluster_domain)
    text = MANAGED + _LOCAL
    for ip in pod_ips:
        text += f"{ip}\t{domain and hostname + '.' + domain + chr(9)}{hostname}\n"
    return text + _aliases(pod)


def mounts_own_hosts_file(container: dict) -> bool:
    return any(vm.get("mountPath", "").rstrip("/") == "/etc/hosts" for vm in container.get("volumeMounts") or [])
