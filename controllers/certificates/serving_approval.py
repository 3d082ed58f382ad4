"""When csrapproving approves a kubelet serving certificate (pure).

Upstream's csrapproving never approves kubernetes.io/kubelet-serving requests: kubeadm
clusters with serverTLSBootstrap leave them to a person or to an add-on approver
(kubelet-csr-approver), and k3s signs kubelet serving certificates itself. pocketkube
approves one when nobody but that node could have asked for it and it names nothing
the node does not own:

  * the requester is the node itself: username system:node:<name>, the request's CN,
    in group system:nodes;
  * the Node <name> exists, and every DNS and IP subjectAltName is one of the addresses
    its status reports (InternalIP, ExternalIP, Hostname, ...).

Anything else stays pending for `kubectl certificate approve`.
"""
from __future__ import annotations

import ipaddress

from cryptography import x509

from .issuing import NODES_GROUP

APPROVED_MESSAGE = "Auto approving kubelet serving certificate: requested by the node, for addresses its Node reports."


def node_addresses(node: dict) -> set[str]:
    return {a.get("address", "") for a in (node.get("status") or {}).get("addresses") or [] if a.get("address")}


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, addresses: set[str]) -> bool:
    for a in addresses:
        try:
            if ipaddress.ip_address(a) == ip:
                return True
        except ValueError:
            continue
    return False


def serving_refusal(spec: dict, common_name: str, sans: x509.SubjectAlternativeName, node: dict | None) -> str | None:
    """Why a (signer-valid) kubelet serving request is not auto-approved; None to approve it."""
    if spec.get("username") != common_name or NODES_GROUP not in (spec.get("groups") or []):
        return f"requested by {spec.get('username')!r}, not by {common_name} itself"
    if node is None:
        return "its Node is not registered"
    addresses = node_addresses(node)
    for name in sans.get_values_for_type(x509.DNSName):
        if name not in addresses:
            return f"DNS name {name} is not an address of its Node"
    for ip in sans.get_values_for_type(x509.IPAddress):
        if not _same_ip(ip, addresses):
            return f"IP address {ip} is not an address of its Node"
    return None
