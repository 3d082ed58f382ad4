"""The gRPC connection to etcd: endpoints → one channel (failing over between
members), key mapping under --etcd-prefix, and gRPC errors → store errors.

We use aetcd's generated etcd v3 stubs directly: its high-level client ignores
limit/revision on ranges, has no TLS and cannot ask a watch for progress.
"""
from __future__ import annotations

from urllib.parse import urlparse

import grpc
from aetcd import rpc

from .interface import CompactedError, FutureRevisionError, StoreError, UnavailableError, ValueTooLargeError

DEFAULT_PREFIX = "/registry"

_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    # notice a dead member quickly so the channel moves to another one
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def grpc_target(endpoints: list[str]) -> tuple[str, bool]:
    """('ipv4:h1:p1,h2:p2' or 'host:port', tls?) for etcd client URLs.

    Several IP endpoints become one multi-address target: gRPC's pick_first
    policy then fails over between members by itself."""
    hosts, tls = [], False
    for ep in endpoints:
        u = urlparse(ep if "://" in ep else f"http://{ep}")
        tls = tls or u.scheme == "https"
        hosts.append((u.hostname or "127.0.0.1", u.port or 2379))
    if not hosts:
        raise ValueError("no etcd endpoints")
    if len(hosts) == 1:
        h, p = hosts[0]
        return f"{h}:{p}", tls
    if all(h.replace(".", "").isdigit() for h, _ in hosts):
        return "ipv4:" + ",".join(f"{h}:{p}" for h, p in hosts), tls
    h, p = hosts[0]   # gRPC cannot list several DNS names in one target
    return f"{h}:{p}", tls


def open_channel(endpoints: list[str], ca_file=None, cert_file=None, key_file=None) -> grpc.aio.Channel:
    target, tls = grpc_target(endpoints)
    if tls or ca_file or cert_file:
        def read(path):
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()

        creds = grpc.ssl_channel_credentials(read(ca_file), read(key_file), read(cert_file))
        return grpc.aio.secure_channel(target, creds, options=_CHANNEL_OPTIONS)
    return grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)


class KeyMap:
    """Store keys (/registry/...) ↔ etcd keys under the configured prefix."""

    def __init__(self, prefix: str = DEFAULT_PREFIX):
        self.prefix = prefix.rstrip("/") if prefix not in ("", "/") else ""

    def to_etcd(self, key: str) -> bytes:
        if key.startswith(DEFAULT_PREFIX):
            key = self.prefix + key[len(DEFAULT_PREFIX):]
        return key.encode()

    def from_etcd(self, key: bytes) -> str:
        s = key.decode()
        if s.startswith(self.prefix):
            return DEFAULT_PREFIX + s[len(self.prefix):]
        return s


def range_end(prefix: bytes) -> bytes:
    """etcd's range_end for "every key starting with prefix"."""
    b = bytearray(prefix)
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\x00"   # etcd: all keys


def store_error(e: grpc.aio.AioRpcError, revision: int = 0) -> StoreError:
    """The store error for an etcd RPC failure."""
    code, details = e.code(), e.details() or ""
    if code == grpc.StatusCode.OUT_OF_RANGE:
        if "compacted" in details:
            return CompactedError(revision, 0)
        if "future" in details:
            return FutureRevisionError(revision, 0)
    # etcd refuses a request over --max-request-bytes itself ("request is too large"),
    # and its gRPC server one over that limit plus 512 KiB before etcd sees it
    if (code == grpc.StatusCode.INVALID_ARGUMENT and "request is too large" in details) or (
            code == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details):
        return ValueTooLargeError("etcdserver: request is too large")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return UnavailableError(f"etcd unavailable: {details}")
    return StoreError(f"etcd error {code.name}: {details}")


__all__ = ["rpc", "grpc_target", "open_channel", "KeyMap", "range_end", "store_error"]
