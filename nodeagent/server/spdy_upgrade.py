"""The HTTP side of a SPDY upgrade on the kubelet API: is it one, which protocol,
and the 101 that switches the connection (rawupgrade convention)."""
from __future__ import annotations

import json

from rawupgrade import EXTENSION

SPDY = "spdy/3.1"
PORTFORWARD_PROTOCOL = "portforward.k8s.io"


def _header_values(scope, name: bytes) -> list[str]:
    out = []
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            out += [p.strip() for p in v.decode("latin-1").split(",") if p.strip()]
    return out


def wants_spdy(scope) -> bool:
    return EXTENSION in (scope.get("extensions") or {}) and \
        [v.lower() for v in _header_values(scope, b"upgrade")] == [SPDY]


def offered_protocols(scope) -> list[str]:
    return _header_values(scope, b"x-stream-protocol-version")


async def accept(send, protocol: str) -> None:
    await send({"type": "http.response.start", "status": 101,
                "headers": [(b"connection", b"Upgrade"), (b"upgrade", b"SPDY/3.1"),
                            (b"x-stream-protocol-version", protocol.encode())]})


async def answer(send, code: int, reason: str, message: str) -> None:
    """A Status instead of the upgrade (nothing is switched)."""
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def negotiation_failed(offered: list[str], accepted: list[str]) -> str:
    return (f"unable to upgrade connection: unable to negotiate protocol: client supports {offered}, "
            f"server accepts {accepted}")
