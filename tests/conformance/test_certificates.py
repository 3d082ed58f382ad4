"""[sig-auth] Certificates API row: CertificateSigningRequests and their /approval and /status."""
from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher


def _request_and_certificate(cn: str) -> tuple[bytes, bytes]:
    """A PEM CSR and a self-signed PEM certificate for the same key (what the row writes to /status)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.PEM)


@row("CertificateSigningRequest API", release="v1.19", needs="API",
     codename="[sig-auth] Certificates API [Privileged:ClusterAdmin] should support CSR API operations")
def test_csr_api_operations(api, ns):
    certs = client.CertificatesV1Api(api)
    resources = client.ApisApi(api).get_api_versions()
    assert any(g.name == "certificates.k8s.io" and any(v.version == "v1" for v in g.versions)
               for g in resources.groups)
    listed = {r.name for r in certs.get_api_resources().resources}
    assert {"certificatesigningrequests", "certificatesigningrequests/approval",
            "certificatesigningrequests/status"} <= listed
    request_pem, cert_pem = _request_and_certificate("e2e.example.com")
    signer = f"example.com/e2e-{ns}"
    label = f"e2e-run={ns}"
    body = {"metadata": {"generateName": "e2e-example-csr-", "labels": {"e2e-run": ns}},
            "spec": {"request": base64.b64encode(request_pem).decode(), "signerName": signer,
                     "usages": ["digital signature", "key encipherment", "client auth"]}}
    created = certs.create_certificate_signing_request(body)
    certs.create_certificate_signing_request(body)
    certs.create_certificate_signing_request(body)
    name = created.metadata.name
    assert certs.read_certificate_signing_request(name).metadata.uid == created.metadata.uid
    csrs = certs.list_certificate_signing_request(label_selector=label)
    assert len(csrs.items) == 3
    w = Watcher(certs.list_certificate_signing_request, resource_version=csrs.metadata.resource_version,
                field_selector=f"metadata.name={name}")
    patched = certs.patch_certificate_signing_request(name, {"metadata": {"annotations": {"patched": "true"}}})
    assert patched.metadata.annotations["patched"] == "true"
    current = certs.read_certificate_signing_request(name)
    current.metadata.annotations["updated"] = "true"
    assert certs.replace_certificate_signing_request(name, current).metadata.annotations["updated"] == "true"
    w.expect_event("MODIFIED")
    w.stop()

    # /approval: get, patch (a condition of any type), update (Approved)
    assert certs.read_certificate_signing_request_approval(name).metadata.name == name
    approval = certs.patch_certificate_signing_request_approval(name, {
        "metadata": {"annotations": {"patchedapproval": "true"}},
        "status": {"conditions": [{"type": "ApprovalPatch", "status": "True", "reason": "e2e"}]}})
    assert [c.type for c in approval.status.conditions] == ["ApprovalPatch"]
    assert approval.metadata.annotations["patchedapproval"] == "true"
    approval.status.conditions.append(client.V1CertificateSigningRequestCondition(
        type="Approved", status="True", reason="E2E", message="Set from an e2e test"))
    updated = certs.replace_certificate_signing_request_approval(name, approval)
    assert [c.type for c in updated.status.conditions] == ["ApprovalPatch", "Approved"]

    # /status: get, patch (the certificate), update (another condition)
    assert certs.read_certificate_signing_request_status(name).metadata.name == name
    status = certs.patch_certificate_signing_request_status(name, {
        "metadata": {"annotations": {"patchedstatus": "true"}},
        "status": {"certificate": base64.b64encode(cert_pem).decode()}})
    assert base64.b64decode(status.status.certificate) == cert_pem
    assert status.metadata.annotations["patchedstatus"] == "true"
    status.status.conditions.append(client.V1CertificateSigningRequestCondition(
        type="StatusUpdate", status="True", reason="E2E", message="Set from an e2e test"))
    updated = certs.replace_certificate_signing_request_status(name, status)
    assert [c.type for c in updated.status.conditions] == ["ApprovalPatch", "Approved", "StatusUpdate"]

    certs.delete_certificate_signing_request(name)
    assert name not in {c.metadata.name for c in certs.list_certificate_signing_request(label_selector=label).items}
    certs.delete_collection_certificate_signing_request(label_selector=label)
    assert certs.list_certificate_signing_request(label_selector=label).items == []
