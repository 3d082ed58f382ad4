"""Node credentials on a cluster with the default authorization (Node,RBAC).

A node joins with only a bootstrap token (`pocketkube token create`, then the `pocketkube
join` it prints): discovery pinned to the CA hash, a CertificateSigningRequest auto-approved
by csrapproving and signed by csrsigning, the node Ready as system:node:<name>.

The node agent's kubelet API authenticates and authorizes as the kubelet does: no credentials is a 401; a client certificate of
the cluster CA or a service-account token names the caller, and a SubjectAccessReview on
nodes/<subresource> decides (403 otherwise); kubectl logs and exec (WebSocket and SPDY)
through the API server, which shows its own client certificate, keep working."""
from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import uuid

import httpx
import pytest

from apiserver.auth import pki
from tests.e2e.conftest import REPO_ROOT, Proc, fresh_namespace, running_cluster

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


# The user of the client certificate the API server is told to show node agents
# (--kubelet-client-certificate/-key): in no group, it may reach them only through the
# role the fixture binds to it, as kubeadm binds its apiserver-kubelet-client.
KUBELET_CLIENT = "e2e-apiserver-kubelet-client"


def _kubelet_client_files(base, pki_dir) -> list[str]:
    """Made as kubeadm makes them before the server's first start: the cluster CA (which the
    server then reuses) and a client certificate it signs; the server's flags naming the latter."""
    pki_dir.mkdir(parents=True)
    ca_cert, ca_key = pki.make_ca()
    (pki_dir / "ca.crt").write_bytes(pki.cert_pem(ca_cert))
    (pki_dir / "ca.key").write_bytes(pki.key_pem(ca_key))
    (pki_dir / "ca.key").chmod(0o600)
    cert, key = pki.make_client_cert(ca_cert, ca_key, KUBELET_CLIENT)
    (base / "kubelet-client.crt").write_bytes(pki.cert_pem(cert))
    (base / "kubelet-client.key").write_bytes(pki.key_pem(key))
    return ["--kubelet-client-certificate", str(base / "kubelet-client.crt"),
            "--kubelet-client-key", str(base / "kubelet-client.key")]


def _let_the_api_server_reach_kubelets(c) -> None:
    c.kubectl("create", "clusterrole", "e2e-kubelet-api", "--verb=get,create",
              "--resource=nodes/proxy,nodes/log,nodes/stats,nodes/metrics")
    c.kubectl("create", "clusterrolebinding", "e2e-kubelet-api", "--clusterrole=e2e-kubelet-api",
              f"--user={KUBELET_CLIENT}")


@pytest.fixture(scope="module")
def rbac_cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("node-credentials")
    pki_dir = base / "apiserver" / "pki"   # where the cluster's server keeps its CA
    # node agents serve certificates of the cluster CA (CSRs, auto-approved), which the server verifies
    with running_cluster(base, server_args=["--kubelet-certificate-authority", str(pki_dir / "ca.crt"),
                                            *_kubelet_client_files(base, pki_dir)],
                         controller_args=["--cluster-signing-cert-file", str(pki_dir / "ca.crt"),
                                          "--cluster-signing-key-file", str(pki_dir / "ca.key")],
                         agent_args=["--rotate-server-certificates"],
                         before_agent=_let_the_api_server_reach_kubelets) as c:
        yield c


@pytest.fixture(scope="module")
def kubelet_url(rbac_cluster) -> str:
    node = rbac_cluster.get("node", rbac_cluster.node)
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    # the kubelet API listens on the node's address only, the one the Node reports
    host = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    return f"https://{host}:{port}"


def _client(url: str, cert: tuple | None = None, token: str | None = None) -> httpx.Client:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE   # the agent's serving cert is self-signed
    if cert:
        ctx.load_cert_chain(*cert)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, verify=ctx, headers=headers, timeout=30)


def _user_cert(c, tmp_path, user: str) -> tuple:
    files = pki.ServingFiles(c.server.ca_file, c.server.data_dir / "pki" / "ca.key", None, None, None, None)
    cert_pem, key_pem = pki.issue_client_cert(files, user, ["testers"])
    cert, key = tmp_path / f"{user}.crt", tmp_path / f"{user}.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return str(cert), str(key)


def test_no_credentials_is_401(kubelet_url):
    with _client(kubelet_url) as h:
        r = h.get("/pods")
        assert r.status_code == 401 and r.text == "Unauthorized"


def test_a_certificate_of_another_ca_is_401_not_a_failed_handshake(kubelet_url, tmp_path):
    other_cert, other_key = pki.make_client_cert(*pki.make_ca("another-ca"), "kube-apiserver-kubelet-client",
                                                 ["system:masters"])
    (tmp_path / "o.crt").write_bytes(pki.cert_pem(other_cert))
    (tmp_path / "o.key").write_bytes(pki.key_pem(other_key))
    with _client(kubelet_url, (str(tmp_path / "o.crt"), str(tmp_path / "o.key"))) as h:
        r = h.get("/pods")
        assert r.status_code == 401 and r.text == "Unauthorized"


def _served_certificate(url: str, ca_file) -> "x509.Certificate":
    """The kubelet API's certificate, verified against `ca_file` for the address dialled."""
    import socket

    from cryptography import x509

    host, port = url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def _serving_csrs(c, node: str) -> list[dict]:
    return [x for x in c.get("csr")["items"] if x["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
            and x["spec"]["username"] == f"system:node:{node}"]


def test_the_kubelet_api_serves_a_certificate_of_the_cluster_ca_obtained_through_a_csr(rbac_cluster, kubelet_url):
    from cryptography.x509.oid import NameOID

    c = rbac_cluster
    cert = _served_certificate(kubelet_url, c.server.ca_file)   # raises unless the CA signed it for this address
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"system:node:{c.node}"
    csrs = _serving_csrs(c, c.node)
    assert len(csrs) == 1 and csrs[0]["spec"]["usages"] == ["digital signature", "server auth"]
    assert [(x["type"], x["reason"]) for x in csrs[0]["status"]["conditions"]] == [("Approved", "AutoApproved")]
    # kubectl shows it as upstream's does
    listed = c.kubectl("get", "csr", csrs[0]["metadata"]["name"]).stdout
    assert "kubernetes.io/kubelet-serving" in listed and f"system:node:{c.node}" in listed and "Approved,Issued" in listed


def test_a_client_certificate_is_authorized_by_subject_access_review(rbac_cluster, kubelet_url, tmp_path):
    k = rbac_cluster.kubectl
    with _client(kubelet_url, _user_cert(rbac_cluster, tmp_path, "jane")) as h:
        r = h.get("/pods")
        assert r.status_code == 403
        assert r.text == "Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)"
        assert h.get("/stats/summary").text == "Forbidden (user=jane, verb=get, resource=nodes, subresource=stats)"
        assert h.get("/logs/").text == "Forbidden (user=jane, verb=get, resource=nodes, subresource=log)"
    k("create", "clusterrole", "node-proxy-reader", "--verb=get", "--resource=nodes/proxy")
    k("create", "clusterrolebinding", "kim-node-proxy", "--clusterrole=node-proxy-reader", "--user=kim")
    with _client(kubelet_url, _user_cert(rbac_cluster, tmp_path, "kim")) as h:
        r = h.get("/pods")
        assert r.status_code == 200 and r.json()["kind"] == "PodList"
        assert h.get("/stats/summary").status_code == 403
        # nodes/proxy is not nodes/log: the node's logs are asked about on their own
        assert h.get("/logs/").text == "Forbidden (user=kim, verb=get, resource=nodes, subresource=log)"


def test_a_bearer_token_is_reviewed_then_authorized(rbac_cluster, kubelet_url):
    k = rbac_cluster.kubectl
    k("create", "namespace", "kubelet-readers")
    k("create", "serviceaccount", "stats", "-n", "kubelet-readers")
    k("create", "clusterrole", "node-stats-reader", "--verb=get", "--resource=nodes/stats")
    k("create", "clusterrolebinding", "stats-reader", "--clusterrole=node-stats-reader",
      "--serviceaccount=kubelet-readers:stats")
    token = k("create", "token", "stats", "-n", "kubelet-readers").stdout.strip()
    with _client(kubelet_url, token=token) as h:
        summary = h.get("/stats/summary")
        assert summary.status_code == 200 and summary.json()["node"]["nodeName"] == rbac_cluster.node
        assert h.get("/pods").text == ("Forbidden (user=system:serviceaccount:kubelet-readers:stats, verb=get, "
                                       "resource=nodes, subresource=proxy)")
    with _client(kubelet_url, token="not-a-token") as h:
        assert h.get("/pods").status_code == 401


@pytest.mark.parametrize("version", ["1.27", "1.33"])   # SPDY, then WebSocket, to the node agent
def test_logs_and_exec_through_the_api_server(rbac_cluster, version):
    c = rbac_cluster
    with fresh_namespace(c) as ns:
        pod = c.run_shell_pod(ns, "talker", "echo hello-logs; exec sleep 3600")
        logs = c.wait_for("the pod's log", lambda: c.kubectl("logs", pod, "-n", ns, version=version).stdout or None)
        assert logs == "hello-logs\n"
        cp = c.kubectl("exec", pod, "-n", ns, "--", "sh", "-c", "echo in-pod; exit 3", version=version, check=False)
        assert (cp.returncode, cp.stdout) == (3, "in-pod\n")
        assert json.loads(c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/pods").stdout)["kind"] == "PodList"


def test_the_api_server_shows_node_agents_the_certificate_its_flags_name(rbac_cluster):
    """--kubelet-client-certificate/-key: the server issues none of its own, and the node agent
    sees the flags' user (its SubjectAccessReview refuses that user what the role leaves out)."""
    c = rbac_cluster
    assert not (c.server.data_dir / "pki" / "apiserver-kubelet-client.crt").exists()
    assert c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/healthz").stdout == "ok"
    with c.server.http_client() as admin:   # system:masters to the API server, KUBELET_CLIENT beyond it
        r = admin.get(f"/api/v1/nodes/{c.node}/proxy/spec/")
    assert r.status_code == 403
    assert r.text == f"Forbidden (user={KUBELET_CLIENT}, verb=get, resource=nodes, subresource=spec)"


def _pocketkube(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketkube", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


def test_a_node_joins_with_only_a_bootstrap_token(rbac_cluster, tmp_path):
    c = rbac_cluster
    made = _pocketkube("token", "create", "--kubeconfig", str(c.server.kubeconfig), "--ttl", "10m")
    assert made.returncode == 0, made.stderr
    join = made.stdout.split()
    assert join[:3] == ["pocketkube", "join", c.server.url] and join[3] == "--token"
    token, pin = join[4], join[6]
    assert join[5] == "--discovery-token-ca-cert-hash" and pin.startswith("sha256:")
    token_id = token.split(".")[0]
    # the token logs in as kubeadm's do
    whoami = c.kubectl("auth", "whoami", "-o", "json", f"--token={token}",
                       "--kubeconfig", str(c.server.token_kubeconfig)).stdout
    user = json.loads(whoami)["status"]["userInfo"]
    assert user["username"] == f"system:bootstrap:{token_id}"
    assert user["groups"] == ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                              "system:authenticated"]
    # bootstrapsigner signs cluster-info with it; token list shows it as kubeadm's does
    signature = f"jws-kubeconfig-{token_id}"
    c.wait_for("cluster-info signed with the token", lambda: signature in c.get(
        "configmap", "cluster-info", "-n", "kube-public")["data"], timeout=30)
    listed = _pocketkube("token", "list", "--kubeconfig", str(c.server.kubeconfig)).stdout.splitlines()
    assert listed[0].split() == ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA", "GROUPS"]
    row = next(line.split() for line in listed if line.startswith(token))
    assert row[1] in ("9m", "10m") and row[3] == "authentication,signing"
    wrong = _pocketkube("join", c.server.url, "--token", token, "--discovery-token-ca-cert-hash", "sha256:" + "0" * 64,
                        "--node-name", "never", "--root-dir", str(tmp_path / "never"))
    assert wrong.returncode == 1 and "refusing to join" in wrong.stderr
    forged = _pocketkube("join", c.server.url, "--token", token_id + "." + "x" * 16, "--discovery-token-ca-cert-hash",
                         pin, "--node-name", "never", "--root-dir", str(tmp_path / "never"))
    assert forged.returncode == 1 and f"signature for token ID '{token_id}' does not match" in forged.stderr
    node = f"joined-{uuid.uuid4().hex[:6]}"
    agent = Proc("join", [*join[1:], "--node-name", node, "--root-dir", str(tmp_path / node), "--port", "0"],
                 tmp_path / "join.log").start()
    try:
        c.wait_for(f"{node} Ready", lambda: any(
            cond["type"] == "Ready" and cond["status"] == "True"
            for cond in (c.get("node", node)["status"].get("conditions") or [])
        ) if c.kubectl("get", "node", node, check=False).returncode == 0 else False, timeout=60)
        csrs = [x for x in c.get("csr")["items"] if x["spec"]["username"] == f"system:bootstrap:{token_id}"]
        assert len(csrs) == 1 and csrs[0]["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
        assert [cond["reason"] for cond in csrs[0]["status"]["conditions"]] == ["AutoApproved"]
        kubeconfig = (tmp_path / node / "kubelet.kubeconfig").read_text()
        assert f"name: system:node:{node}" in kubeconfig and "client-certificate-data" in kubeconfig
        # and, as a node of its own, a serving certificate through a CSR the API server's hops verify
        c.wait_for("its serving certificate", lambda: any(
            x["status"].get("certificate") for x in _serving_csrs(c, node)), timeout=30)
        assert c.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").stdout == "ok"
    finally:
        agent.stop()
        c.kubectl("delete", "node", node, "--wait=false", check=False)
    deleted = _pocketkube("token", "delete", token_id, "--kubeconfig", str(c.server.kubeconfig))
    assert (deleted.returncode, deleted.stdout) == (0, f'bootstrap token "{token_id}" deleted\n')
    assert token not in _pocketkube("token", "list", "--kubeconfig", str(c.server.kubeconfig)).stdout
    c.wait_for("its signature gone from cluster-info", lambda: signature not in c.get(
        "configmap", "cluster-info", "-n", "kube-public")["data"], timeout=30)


def _short_lived_node_kubeconfig(c, path, node: str, seconds_left: int) -> None:
    """A kubeconfig for system:node:<node> whose certificate (made with the cluster CA) has
    `seconds_left` to live and began 5 minutes ago: rotation is due 80% into its life."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from apiserver.auth.kubeconfig import render_kubeconfig, write_kubeconfig

    ca_cert, ca_key = pki.load_cert(c.server.ca_file), pki.load_key(c.server.data_dir / "pki" / "ca.key")
    key = pki.new_key()
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(seconds=seconds_left))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    write_kubeconfig(path, render_kubeconfig(server=c.server.url, ca_pem=c.server.ca_file.read_bytes(),
                                             user=f"system:node:{node}", client_cert_pem=pki.cert_pem(cert),
                                             client_key_pem=pki.key_pem(key)))


def _short_lived_serving_cert(c, pki_dir, node: str, host: str, seconds_left: int) -> int:
    """A serving certificate of the cluster CA for the node's addresses, in the agent's pki
    directory, with `seconds_left` to live (begun 5 minutes ago); its serial."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    ca_cert, ca_key = pki.load_cert(c.server.ca_file), pki.load_key(c.server.data_dir / "pki" / "ca.key")
    key = pki.new_key()
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(seconds=seconds_left))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName(node)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki_dir.mkdir(parents=True)
    (pki_dir / "kubelet-server.crt").write_bytes(pki.cert_pem(cert))
    (pki_dir / "kubelet-server.key").write_bytes(pki.key_pem(key))
    return cert.serial_number


def _certificate_serial(path) -> int:
    import yaml
    from cryptography import x509

    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    return x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"])).serial_number


def test_a_node_renews_its_certificate_before_it_expires_and_keeps_its_pods(rbac_cluster, tmp_path):
    c = rbac_cluster
    node = f"rotating-{uuid.uuid4().hex[:6]}"
    kubeconfig = tmp_path / "kubelet.kubeconfig"
    _short_lived_node_kubeconfig(c, kubeconfig, node, seconds_left=100)   # rotation due in ~20 s
    first = _certificate_serial(kubeconfig)
    host = next(a["address"] for a in c.get("node", c.node)["status"]["addresses"] if a["type"] == "InternalIP")
    first_serving = _short_lived_serving_cert(c, tmp_path / node / "pki", node, host, seconds_left=100)
    agent = Proc("rotating", ["nodeagent", "--kubeconfig", str(kubeconfig), "--node-name", node,
                              "--root-dir", str(tmp_path / node), "--port", "0", "--rotate-certificates",
                              "--rotate-server-certificates"],
                 tmp_path / "rotating.log").start()
    try:
        with fresh_namespace(c) as ns:
            c.kubectl("run", "steady", "-n", ns, f"--image={IMAGE}",
                      f'--overrides={{"spec":{{"nodeName":"{node}"}}}}', "--", "sleep", "3600")
            c.wait_for("steady Running", lambda: c.get("pod", "steady", "-n", ns)["status"].get("phase") == "Running")
            started = c.get("pod", "steady", "-n", ns)["status"]["containerStatuses"][0]
            c.wait_for("a rotated certificate", lambda: _certificate_serial(kubeconfig) != first, timeout=90)
            csr = [x for x in c.get("csr")["items"] if x["spec"]["username"] == f"system:node:{node}"]
            assert [cond["reason"] for cond in csr[0]["status"]["conditions"]] == ["AutoApproved"]
            # the node keeps reporting with its new certificate; the pod was never restarted
            lease = c.get("lease", node, "-n", "kube-node-lease")["spec"]["renewTime"]
            c.wait_for("a lease renewal after the rotation", lambda: c.get(
                "lease", node, "-n", "kube-node-lease")["spec"]["renewTime"] != lease, timeout=60)
            now = c.get("pod", "steady", "-n", ns)["status"]["containerStatuses"][0]
            assert now["restartCount"] == 0 and now["containerID"] == started["containerID"]
            assert "rotated the client certificate" in agent.log(200)
            # its serving certificate too: new connections get the renewed one, of the cluster CA
            port = c.get("node", node)["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
            c.wait_for("a renewed serving certificate", lambda: _served_certificate(
                f"https://{host}:{port}", c.server.ca_file).serial_number != first_serving, timeout=60)
            assert c.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").stdout == "ok"
    finally:
        agent.stop()
        c.kubectl("delete", "node", node, "--wait=false", check=False)
