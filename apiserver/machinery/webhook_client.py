"""The HTTPS client the API server calls webhooks with (admission, CRD conversion).

The webhook's caBundle is its only trust; without one, the system's roots.
Calls are asyncio (httpx): a slow webhook holds its request, never the event loop.
"""
from __future__ import annotations

import base64
import ssl

import httpx


def ssl_context(ca_bundle: str | None, check_hostname: bool = True) -> ssl.SSLContext:
    """Trust exactly the base64 PEM bundle (a webhook's `caBundle`), or the system roots."""
    if ca_bundle:
        ctx = ssl.create_default_context(cadata=base64.b64decode(ca_bundle).decode())
    else:
        ctx = ssl.create_default_context()
    ctx.check_hostname = check_hostname
    return ctx


async def post_json(url: str, body: dict, ca_bundle: str | None, *, check_hostname: bool = True,
                    timeout: float = 30.0) -> httpx.Response:
    """POST `body` as JSON; raises httpx.HTTPError / ssl.SSLError / OSError when it cannot be sent."""
    async with httpx.AsyncClient(verify=ssl_context(ca_bundle, check_hostname), timeout=timeout) as client:
        return await client.post(url, json=body)


def client(ca_bundle: str | None, *, check_hostname: bool = True, timeout: float = 30.0) -> httpx.AsyncClient:
    """A client that keeps its connections open, for a webhook called again and again
    (a CRD's conversion webhook: once per watch event); close it with `aclose()`."""
    return httpx.AsyncClient(verify=ssl_context(ca_bundle, check_hostname), timeout=timeout)


CALL_ERRORS = (httpx.HTTPError, OSError, ValueError, ssl.SSLError)
