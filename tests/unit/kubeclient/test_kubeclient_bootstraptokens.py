"""Bootstrap token Secrets and cluster-info's detached JWS signatures (kubeclient/bootstraptokens.py)."""
from __future__ import annotations

import base64
import datetime as dt

from kubeclient.bootstraptokens import detached_jws, signature_is_valid, signed_cluster_info, signing_tokens

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def secret(token_id: str, token_secret: str, **data: str) -> dict:
    data = {"token-id": token_id, "token-secret": token_secret, **data}
    return {"type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
            "data": {k.replace("_", "-"): base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_the_signature_is_upstreams_detached_hs256_jws():
    # the test vector of upstream's cluster-bootstrap jws package
    assert detached_jws("Hello from the other side. I must have called a thousand times.", "joshua",
                        "my voice is my passcode") == \
        "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
    jws = detached_jws("content", "abcdef", "0123456789abcdef")
    assert signature_is_valid(jws, "content", "abcdef", "0123456789abcdef")
    assert not signature_is_valid(jws, "content!", "abcdef", "0123456789abcdef")
    assert not signature_is_valid(jws, "content", "abcdef", "0123456789abcdeX")


def test_only_unexpired_signing_tokens_sign():
    secrets = [secret("aaaaaa", "a" * 16, usage_bootstrap_signing="true"),
               secret("bbbbbb", "b" * 16, usage_bootstrap_signing="true", expiration="2026-05-31T00:00:00Z"),
               secret("cccccc", "c" * 16, usage_bootstrap_signing="true", expiration="2026-06-02T00:00:00Z"),
               secret("dddddd", "d" * 16, usage_bootstrap_authentication="true"),
               secret("eeeeee", "e" * 16, usage_bootstrap_signing="true", expiration="tomorrow"),
               dict(secret("ffffff", "f" * 16, usage_bootstrap_signing="true"), type="Opaque")]
    assert signing_tokens(secrets, NOW) == {"aaaaaa": "a" * 16, "cccccc": "c" * 16}


def test_cluster_info_gets_one_signature_per_token_and_loses_stale_ones():
    data = {"kubeconfig": "kc", "jws-kubeconfig-gone00": "old"}
    signed = signed_cluster_info(data, {"aaaaaa": "a" * 16})
    assert signed == {"kubeconfig": "kc", "jws-kubeconfig-aaaaaa": detached_jws("kc", "aaaaaa", "a" * 16)}
    assert signed_cluster_info(signed, {"aaaaaa": "a" * 16}) == signed
