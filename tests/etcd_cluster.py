"""Start and stop throwaway etcd members for tests (and benchmarks).

    cluster = EtcdCluster(members=1)   # or 3
    cluster.start()                    # free loopback ports, data under /dev/shm
    cluster.client_urls                # ["http://127.0.0.1:PORT", ...]
    cluster.kill(i); cluster.restart(i)  # for failover tests
    cluster.stop()

    EtcdCluster(1, tls=True)           # https clients with client certificates:
                                       # cluster.ca_file, .client_cert, .client_key

Members are stopped by PID; nothing else on the machine is touched. etcd comes
from Debian's package (hack/setup-etcd.sh).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request

from tests.ports import free_port


def make_certs(directory: str) -> tuple[str, str, str, str, str]:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client
    certificate: (ca, server cert, server key, client cert, client key) paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def write(name: str, data: bytes) -> str:
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etcd-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))

    def leaf(cn: str, usages, san: bool):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(ca_name).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
        return b.sign(ca_key, hashes.SHA256()), key

    server, server_key = leaf("etcd", [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH], True)
    client, client_key = leaf("apiserver", [ExtendedKeyUsageOID.CLIENT_AUTH], False)
    pem = serialization.Encoding.PEM
    return (write("ca.crt", ca.public_bytes(pem)),
            write("server.crt", server.public_bytes(pem)), write("server.key", key_pem(server_key)),
            write("client.crt", client.public_bytes(pem)), write("client.key", key_pem(client_key)))


class EtcdCluster:
    def __init__(self, members: int = 1, *, base_dir: str | None = None,
                 client_ports: list[int] | None = None, tls: bool = False):
        if shutil.which("etcd") is None:
            raise RuntimeError("etcd is not installed: run hack/setup-etcd.sh")
        root = base_dir or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.dir = tempfile.mkdtemp(prefix="pocketkube-etcd-", dir=root)
        self.names = [f"m{i}" for i in range(members)]
        self._auto_ports = not client_ports   # we probed them, so may probe again if one gets taken
        self.client_ports = client_ports or [free_port() for _ in range(members)]
        self.peer_ports = [free_port() for _ in range(members)]
        self.procs: list[subprocess.Popen | None] = [None] * members
        self.token = os.path.basename(self.dir)
        self.tls = tls
        if tls:
            self.ca_file, self.server_cert, self.server_key, self.client_cert, self.client_key = \
                make_certs(self.dir)

    @property
    def client_urls(self) -> list[str]:
        scheme = "https" if self.tls else "http"
        return [f"{scheme}://127.0.0.1:{p}" for p in self.client_ports]

    def _initial_cluster(self) -> str:
        return ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports))

    def _spawn(self, i: int, state: str) -> None:
        name = self.names[i]
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        self.procs[i] = subprocess.Popen(
            [
                "etcd", "--name", name,
                "--data-dir", os.path.join(self.dir, name),
                "--listen-client-urls", self.client_urls[i],
                "--advertise-client-urls", self.client_urls[i],
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
                "--initial-cluster", self._initial_cluster(),
                "--initial-cluster-state", state,
                "--initial-cluster-token", self.token,
                "--heartbeat-interval", "50", "--election-timeout", "500",
                "--logger", "zap", "--log-level", "warn",
                *self._tls_args(),
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        return ["--cert-file", self.server_cert, "--key-file", self.server_key,
                "--trusted-ca-file", self.ca_file, "--client-cert-auth"]

    def healthy(self, i: int) -> bool:
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            ctx.load_cert_chain(self.client_cert, self.client_key)
        try:
            with urllib.request.urlopen(self.client_urls[i] + "/health", timeout=1, context=ctx) as r:
                return b'"health":"true"' in r.read()
        except OSError:
            return False

    def wait_healthy(self, members: list[int] | None = None, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for i in members if members is not None else range(len(self.names)):
            while not self.healthy(i):
                proc = self.procs[i]
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"etcd {self.names[i]} exited: {self.log(i)[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"etcd {self.names[i]} not healthy: {self.log(i)[-2000:]}")
                time.sleep(0.05)

    def log(self, i: int) -> str:
        try:
            with open(os.path.join(self.dir, f"{self.names[i]}.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self) -> "EtcdCluster":
        for attempt in range(3):
            for i in range(len(self.names)):
                self._spawn(i, "new")
            try:
                self.wait_healthy()
                return self
            except RuntimeError as e:
                # Another process took a probed free port before etcd bound it: new ports, new data.
                if not self._auto_ports or "address already in use" not in str(e) or attempt == 2:
                    raise
                for i in range(len(self.names)):
                    self.kill(i)
                    shutil.rmtree(os.path.join(self.dir, self.names[i]), ignore_errors=True)
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(self.dir, f"{self.names[i]}.log"))
                self.client_ports = [free_port() for _ in self.names]
                self.peer_ports = [free_port() for _ in self.names]
        return self

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.procs[i] = None

    def restart(self, i: int, wait: bool = True) -> None:
        self.kill(i)
        self._spawn(i, "existing")
        if wait:
            self.wait_healthy([i])

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.procs[i] = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "EtcdCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
