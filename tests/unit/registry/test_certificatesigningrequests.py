"""CertificateSigningRequest rules (upstream's certificates validation) and its table."""
from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apiserver.auth import pki
from apiserver.auth.certificates_guard import record_requester, requested_organizations
from apiserver.machinery.user import UserInfo
from apiserver.registry.resources import strategy_for
from openapi import catalogue

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def strategy():
    r = next(x for x in catalogue.load().resources() if x.plural == "certificatesigningrequests")
    return strategy_for(r)


def csr_pem(cn="jane", orgs=("devs",)) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs)])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM)


def csr(**spec) -> dict:
    base = {"request": base64.b64encode(csr_pem()).decode(), "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"]}
    base.update(spec)
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "jane"}, "spec": {k: v for k, v in base.items() if v is not None}}


def messages(strategy, obj) -> list[str]:
    return [f"{c.field}: {c.message}" for c in strategy.check_create(obj)]


def test_a_good_request_passes(strategy):
    assert messages(strategy, csr(expirationSeconds=600)) == []


def test_request_must_be_a_signed_pem_csr(strategy):
    bad = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").decode()
    assert any(m.startswith("spec.request: Invalid value") and "PEM block type must be CERTIFICATE REQUEST" in m
               for m in messages(strategy, csr(request=bad)))
    pem = bytearray(csr_pem())
    body_at = pem.index(b"\n") + 40
    pem[body_at] = ord("A") if pem[body_at] != ord("A") else ord("B")   # break the signature or the DER
    assert any(m.startswith("spec.request") for m in messages(strategy, csr(request=base64.b64encode(pem).decode())))


def test_signer_usages_and_duration(strategy):
    got = messages(strategy, csr(signerName="not-qualified", usages=["client auth", "client auth", "flying"],
                                 expirationSeconds=599))
    assert ("spec.signerName: Invalid value: \"not-qualified\": must be a fully qualified domain and path of the "
            "form 'example.com/signer-name'") in got
    assert 'spec.usages[1]: Duplicate value: "client auth"' in got
    assert any(m.startswith('spec.usages[2]: Unsupported value: "flying"') for m in got)
    assert "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)" in got
    assert "spec.usages: Required value" in messages(strategy, csr(usages=[]))
    assert "spec.signerName: Required value" in messages(strategy, csr(signerName=None))
    assert any("legacy signerName is not allowed" in m
               for m in messages(strategy, csr(signerName="kubernetes.io/legacy-unknown")))


def _with_conditions(obj, *conds):
    obj["status"] = {"conditions": [dict(c) for c in conds]}
    return obj


def test_conditions(strategy):
    approved = {"type": "Approved", "status": "True"}
    denied = {"type": "Denied", "status": "True"}
    got = messages(strategy, _with_conditions(csr(), approved, denied, {"type": "Failed", "status": "False"},
                                              dict(approved)))
    assert 'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive' in got
    assert 'status.conditions[2].status: Unsupported value: "False": supported values: "True"' in got
    assert 'status.conditions[3].type: Duplicate value: "Approved"' in got


def test_updates_keep_approval_and_the_certificate(strategy):
    old = _with_conditions(csr(), {"type": "Approved", "status": "True"})
    ca = pki.make_ca()
    cert, _ = pki.make_client_cert(*ca, "jane")
    old["status"]["certificate"] = base64.b64encode(pki.cert_pem(cert)).decode()
    new = _with_conditions(csr())
    other, _ = pki.make_client_cert(*ca, "jane")
    new["status"]["certificate"] = base64.b64encode(pki.cert_pem(other)).decode()
    got = [f"{c.field}: {c.message}" for c in strategy.validate_update(new, old)]
    assert 'status.conditions: Forbidden: updates may not remove a condition of type "Approved"' in got
    assert "status.certificate: Forbidden: updates may not modify existing certificate content" in got


def test_status_writes_cannot_approve(strategy):
    old = csr()
    new = _with_conditions(csr(), {"type": "Approved", "status": "True"}, {"type": "Failed", "status": "True"})
    strategy.prepare_for_status_update(new, old)
    assert [c["type"] for c in new["status"]["conditions"]] == ["Failed"]
    assert new["status"]["conditions"][0]["lastTransitionTime"]


def test_the_requester_is_the_writer_whatever_was_sent():
    obj = csr(username="someone-else", groups=["system:masters"])
    record_requester(obj, UserInfo("jane", uid="42", groups=("devs", "system:authenticated")))
    assert (obj["spec"]["username"], obj["spec"]["uid"], obj["spec"]["groups"]) == \
        ("jane", "42", ["devs", "system:authenticated"])
    assert requested_organizations(obj["spec"]["request"]) == ["devs"]


def test_table_condition_column(strategy):
    obj = _with_conditions(csr(expirationSeconds=86400), {"type": "Approved", "status": "True"})
    obj["status"]["certificate"] = "eA=="
    obj["spec"]["username"] = "kubernetes-admin"
    cells = strategy.cells(obj, NOW)
    assert cells[2:] == ["kubernetes.io/kube-apiserver-client", "kubernetes-admin", "24h", "Approved,Issued"]
    assert strategy.cells(csr(), NOW)[-2:] == ["<none>", "Pending"]
