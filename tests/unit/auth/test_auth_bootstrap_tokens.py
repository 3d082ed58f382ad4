"""Bootstrap tokens: the Secret a token must match, and who it logs in as."""
from __future__ import annotations

import datetime as dt

from apiserver.auth import pki
from apiserver.auth.bootstrap_tokens import user_for
from nodeagent.bootstrap import needs_certificate
from pocketkube.join import ca_cert_hash, new_token, token_secret

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def test_token_create_makes_a_secret_the_authenticator_accepts():
    token_id, secret = new_token()
    obj = token_secret(token_id, secret, 3600, NOW)
    assert obj["metadata"] == {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"}
    user = user_for(f"{token_id}.{secret}", obj, NOW)
    assert user.name == f"system:bootstrap:{token_id}"
    assert user.groups == ("system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                           "system:authenticated")


def test_what_a_token_may_not_be():
    token_id, secret = new_token()
    obj = token_secret(token_id, secret, 3600, NOW)
    assert user_for(f"{token_id}.{secret}", obj, NOW + dt.timedelta(hours=2)) is None   # expired
    assert user_for(f"{token_id}.{'x' * 16}", obj, NOW) is None                           # wrong secret
    assert user_for(f"{token_id}.{secret}", dict(obj, type="Opaque"), NOW) is None
    assert user_for("not-a-token", obj, NOW) is None
    assert user_for(f"{token_id}.{secret}", None, NOW) is None
    bad_group = token_secret(token_id, secret, 0, NOW)
    bad_group["data"]["auth-extra-groups"] = "c3lzdGVtOm1hc3RlcnM="   # system:masters
    assert user_for(f"{token_id}.{secret}", bad_group, NOW) is None
    assert user_for(f"{token_id}.{secret}", token_secret(token_id, secret, 0, NOW), NOW + dt.timedelta(days=999))


def test_ca_hash_is_sha256_of_the_public_key_info():
    ca, _ = pki.make_ca()
    pem = pki.cert_pem(ca)
    assert ca_cert_hash(pem).startswith("sha256:") and len(ca_cert_hash(pem)) == 7 + 64
    assert ca_cert_hash(pem) != ca_cert_hash(pki.cert_pem(pki.make_ca()[0]))


def test_a_node_renews_in_the_last_fifth_of_its_certificate(tmp_path):
    from apiserver.auth.kubeconfig import render_kubeconfig, write_kubeconfig
    ca = pki.make_ca()
    cert, key = pki.make_client_cert(*ca, "system:node:n1", ["system:nodes"])
    path = write_kubeconfig(tmp_path / "k", render_kubeconfig(server="https://x", ca_pem=pki.cert_pem(ca[0]),
                                                              user="n", client_cert_pem=pki.cert_pem(cert),
                                                              client_key_pem=pki.key_pem(key)))
    assert needs_certificate(str(tmp_path / "missing"))
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    assert not needs_certificate(str(path), start + (end - start) * 0.7)
    assert needs_certificate(str(path), start + (end - start) * 0.9)
