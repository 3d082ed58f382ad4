"""When csrapproving approves a kubelet serving certificate (controllers/certificates/serving_approval.py)."""
from __future__ import annotations

import ipaddress

from cryptography import x509

from controllers.certificates.serving_approval import serving_refusal

NODE = {"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.1.2.3"},
                                                             {"type": "Hostname", "address": "n1"}]}}
OWN = {"username": "system:node:n1", "groups": ["system:nodes", "system:authenticated"]}


def sans(*names: str) -> x509.SubjectAlternativeName:
    out = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(out)


def test_the_nodes_own_request_for_its_addresses_is_approved():
    assert serving_refusal(OWN, "system:node:n1", sans("10.1.2.3", "n1"), NODE) is None
    assert serving_refusal(OWN, "system:node:n1", sans("10.1.2.3"), NODE) is None


def test_anything_else_waits_for_a_person():
    assert serving_refusal({"username": "system:node:n2", "groups": ["system:nodes"]}, "system:node:n1",
                           sans("10.1.2.3"), NODE) == "requested by 'system:node:n2', not by system:node:n1 itself"
    assert serving_refusal({"username": "system:node:n1", "groups": []}, "system:node:n1", sans("n1"), NODE)
    assert serving_refusal(OWN, "system:node:n1", sans("n1"), None) == "its Node is not registered"
    assert serving_refusal(OWN, "system:node:n1", sans("10.1.2.3", "kubernetes.default"), NODE) == \
        "DNS name kubernetes.default is not an address of its Node"
    assert serving_refusal(OWN, "system:node:n1", sans("10.9.9.9"), NODE) == \
        "IP address 10.9.9.9 is not an address of its Node"
