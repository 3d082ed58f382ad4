"""Bootstrap tokens as clients read them (pure): the Secrets kubeadm's tokens live in, and the
detached JWS signatures of kube-public/cluster-info made with them.

A token ID.SECRET is a Secret `bootstrap-token-ID` in kube-system of type
bootstrap.kubernetes.io/token. With usage-bootstrap-signing, the bootstrapsigner controller
signs cluster-info's `kubeconfig` with it: `jws-kubeconfig-ID` holds a JWS in compact form
with its payload left out (header..signature), HS256 keyed by the token's SECRET, header
{"alg":"HS256","kid":"ID"}, as upstream's bootstrap signer writes it. A joining node that
knows the whole token recomputes it: only someone holding the token could have signed what
it reads anonymously.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json

NAMESPACE = "kube-system"
SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_PREFIX = "bootstrap-token-"
SIGNATURE_PREFIX = "jws-kubeconfig-"
CLUSTER_INFO = ("kube-public", "cluster-info")


def secret_data(secret: dict, key: str) -> str:
    value = (secret.get("data") or {}).get(key)
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def expiration(secret: dict) -> dt.datetime | None:
    """When the token expires; None when never. ValueError when it does not parse."""
    text = secret_data(secret, "expiration")
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def is_token_secret(secret: dict) -> bool:
    meta = secret.get("metadata") or {}
    token_id = secret_data(secret, "token-id")
    return (secret.get("type") == SECRET_TYPE and meta.get("namespace", NAMESPACE) == NAMESPACE
            and bool(token_id) and meta.get("name") == SECRET_PREFIX + token_id and not meta.get("deletionTimestamp"))


def signing_tokens(secrets: list[dict], now: dt.datetime) -> dict[str, str]:
    """token ID -> token secret, for the unexpired tokens whose usages include signing."""
    out = {}
    for s in secrets:
        if not is_token_secret(s) or secret_data(s, "usage-bootstrap-signing") != "true":
            continue
        try:
            expires = expiration(s)
        except ValueError:
            continue   # an expiration that does not parse counts as passed, as upstream
        if expires is not None and expires <= now:
            continue
        if secret_data(s, "token-secret"):
            out[secret_data(s, "token-id")] = secret_data(s, "token-secret")
    return out


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_jws(content: str, token_id: str, token_secret: str) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signing_input = f"{header}.{_b64url(content.encode())}".encode()
    signature = hmac.new(token_secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}..{_b64url(signature)}"


def signature_is_valid(jws: str, content: str, token_id: str, token_secret: str) -> bool:
    return hmac.compare_digest(jws.encode(), detached_jws(content, token_id, token_secret).encode())


def signed_cluster_info(data: dict[str, str], tokens: dict[str, str]) -> dict[str, str]:
    """cluster-info's data with one signature per signing token and no stale ones."""
    out = {k: v for k, v in data.items() if not k.startswith(SIGNATURE_PREFIX)}
    content = data.get("kubeconfig")
    if content is not None:
        for token_id, token_secret in sorted(tokens.items()):
            out[SIGNATURE_PREFIX + token_id] = detached_jws(content, token_id, token_secret)
    return out
