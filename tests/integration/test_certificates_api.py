"""certificates.k8s.io/v1 through kubectl, with the csrsigning and csrapproving controllers
running against the session server: a user onboarded as the Kubernetes docs describe it
(openssl key and CSR, kubectl apply, kubectl certificate approve, a kubeconfig with the issued
certificate, kubectl auth whoami), denial, upstream's validation, the node client
auto-approver and a signer's refusal."""
from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess

import pytest
from cryptography import x509

from tests.harness import kubectl_runner
from tests.integration.controllers_support import ControllersProcess, poll

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the docs' flow needs the openssl tool")


@pytest.fixture(scope="module")
def signing_controllers(server, tmp_path_factory):
    pki = server.data_dir / "pki"
    proc = ControllersProcess(server.kubeconfig, tmp_path_factory.mktemp("csr-controllers"),
                              "--controllers", "csrsigning,csrapproving", "--leader-elect=false",
                              "--cluster-signing-cert-file", str(pki / "ca.crt"),
                              "--cluster-signing-key-file", str(pki / "ca.key"), name="csr-controllers")
    yield proc
    proc.stop()


def openssl_request(d, name: str, subject: str) -> tuple:
    key, req = d / f"{name}.key", d / f"{name}.csr"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", str(key), "-out", str(req), "-subj", subject],
                   check=True, capture_output=True)
    return key, req


def csr_manifest(name: str, request: bytes, signer: str, usages: list[str], seconds: int | None = None) -> str:
    spec = {"request": base64.b64encode(request).decode(), "signerName": signer, "usages": usages}
    if seconds is not None:
        spec["expirationSeconds"] = seconds
    return json.dumps({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                       "metadata": {"name": name}, "spec": spec})


def get_csr(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "csr", name, "-o", "json").stdout)


async def issued(kubectl, name: str) -> bytes:
    csr = await poll(lambda: (lambda c: c if (c.get("status") or {}).get("certificate") else None)(
        get_csr(kubectl, name)), timeout=30, what=f"a certificate for {name}")
    return base64.b64decode(csr["status"]["certificate"])


@pytest.mark.parametrize("version", ["1.27", "1.33"])
async def test_onboarding_a_user_as_the_docs_describe(signing_controllers, kubectl, kubectl_cache_dir, server,
                                                      tmp_path, version):
    name = f"myuser-{version.replace('.', '')}"
    key, req = openssl_request(tmp_path, name, f"/CN={name}/O=devs/O=testers")
    kubectl("apply", "-f", "-", input=csr_manifest(name, req.read_bytes(), "kubernetes.io/kube-apiserver-client",
                                                   ["client auth"], 86400), version=version)
    table = kubectl("get", "csr", name, version=version).stdout
    assert "kubernetes.io/kube-apiserver-client" in table and "kubernetes-admin" in table and "Pending" in table
    assert f"{name} approved" in kubectl("certificate", "approve", name, version=version).stdout
    pem = await issued(kubectl, name)
    cert = x509.load_pem_x509_certificate(pem)
    # expirationSeconds honoured (the signer's default is a year): a day from now, begun 5 minutes back
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(seconds=86400) < lifetime <= dt.timedelta(seconds=86400 + 300)
    assert "Approved,Issued" in kubectl("get", "csr", name).stdout
    crt = tmp_path / f"{name}.crt"
    crt.write_bytes(pem)
    kc = str(tmp_path / "user.kubeconfig")
    kubectl("config", "set-cluster", "kubernetes", f"--server={server.url}",
            f"--certificate-authority={server.ca_file}", "--embed-certs", f"--kubeconfig={kc}")
    kubectl("config", "set-credentials", name, f"--client-key={key}", f"--client-certificate={crt}",
            "--embed-certs", f"--kubeconfig={kc}")
    kubectl("config", "set-context", name, "--cluster=kubernetes", f"--user={name}", f"--kubeconfig={kc}")
    kubectl("config", "use-context", name, f"--kubeconfig={kc}")
    out = kubectl_runner(tmp_path / "user.kubeconfig", kubectl_cache_dir)("auth", "whoami").stdout
    assert name in out and "[devs testers system:authenticated]" in out


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_deny(kubectl, tmp_path, version):
    name = f"denied-{version.replace('.', '')}"
    _, req = openssl_request(tmp_path, name, f"/CN={name}")
    kubectl("apply", "-f", "-", input=csr_manifest(name, req.read_bytes(), "example.com/my-signer", ["client auth"]))
    assert f"{name} denied" in kubectl("certificate", "deny", name, version=version).stdout
    conditions = get_csr(kubectl, name)["status"]["conditions"]
    assert [(c["type"], c["reason"]) for c in conditions] == [("Denied", "KubectlDeny")]
    cp = kubectl("certificate", "approve", name, check=False, version=version)
    assert cp.returncode != 0


def test_upstream_validation(kubectl, tmp_path):
    _, req = openssl_request(tmp_path, "bad", "/CN=bad")
    cp = kubectl("apply", "-f", "-", check=False, input=csr_manifest(
        "bad", req.read_bytes(), "not-qualified", ["client auth", "client auth"], 60))
    assert cp.returncode == 1
    assert 'The CertificateSigningRequest "bad" is invalid' in cp.stderr
    assert "spec.signerName: Invalid value: \"not-qualified\": must be a fully qualified domain" in cp.stderr
    assert 'spec.usages[1]: Duplicate value: "client auth"' in cp.stderr
    assert "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds" in cp.stderr
    cp = kubectl("apply", "-f", "-", check=False, input=csr_manifest(
        "bad", b"not a request", "example.com/x", ["client auth"]))
    assert "spec.request: Invalid value" in cp.stderr and "PEM block type must be CERTIFICATE REQUEST" in cp.stderr


def test_no_system_masters_through_the_client_signer(kubectl, tmp_path):
    _, req = openssl_request(tmp_path, "root", "/CN=root/O=system:masters")
    cp = kubectl("create", "-f", "-", check=False, input=csr_manifest(
        "root", req.read_bytes(), "kubernetes.io/kube-apiserver-client", ["client auth"]))
    assert ("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
            in cp.stderr)


async def test_node_client_requests_are_auto_approved_and_signers_refuse_what_they_do_not_issue(
        signing_controllers, kubectl, tmp_path):
    _, req = openssl_request(tmp_path, "node", "/O=system:nodes/CN=system:node:csr-node")
    kubectl("create", "-f", "-", input=csr_manifest(
        "node-client", req.read_bytes(), "kubernetes.io/kube-apiserver-client-kubelet",
        ["digital signature", "key encipherment", "client auth"]))
    cert = x509.load_pem_x509_certificate(await issued(kubectl, "node-client"))
    assert cert.subject.rfc4514_string() == "CN=system:node:csr-node,O=system:nodes"
    approved = get_csr(kubectl, "node-client")["status"]["conditions"][0]
    assert (approved["type"], approved["reason"]) == ("Approved", "AutoApproved")
    # a serving certificate without a DNS or IP name: approved by hand, refused by its signer
    kubectl("create", "-f", "-", input=csr_manifest(
        "no-names", req.read_bytes(), "kubernetes.io/kubelet-serving",
        ["digital signature", "key encipherment", "server auth"]))
    kubectl("certificate", "approve", "no-names")
    failed = await poll(lambda: [c for c in get_csr(kubectl, "no-names").get("status", {}).get("conditions", [])
                                 if c["type"] == "Failed"], what="the Failed condition")
    assert failed[0]["reason"] == "SignerValidationFailure"
    assert failed[0]["message"] == "DNS or IP subjectAltName is required"
    assert "Approved,Failed" in kubectl("get", "csr", "no-names").stdout
