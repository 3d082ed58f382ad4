"""`pocketkube join`'s discovery checks and `pocketkube token list`'s rows (pocketkube/join.py, tokens.py)."""
from __future__ import annotations

import base64
import datetime as dt

import pytest

from apiserver.auth import pki
from apiserver.assembly.cluster_info import cluster_info_kubeconfig
from kubeclient.bootstraptokens import detached_jws
from pocketkube.join import DiscoveryRefused, ca_cert_hash, check_cluster_info, token_secret
from pocketkube.tokens import short_human_duration, token_rows

TOKEN = "abcdef.0123456789abcdef"


@pytest.fixture(scope="module")
def cluster_info():
    ca_pem = pki.cert_pem(pki.make_ca()[0])
    content = cluster_info_kubeconfig("https://10.0.0.1:6443", ca_pem)
    return {"kubeconfig": content, "jws-kubeconfig-abcdef": detached_jws(content, "abcdef", "0123456789abcdef")}, \
        ca_cert_hash(ca_pem)


def test_signed_cluster_info_with_the_pinned_ca_is_trusted(cluster_info):
    data, pin = cluster_info
    assert check_cluster_info(data, TOKEN, pin)["server"] == "https://10.0.0.1:6443"


def test_unsigned_wrongly_signed_or_unpinned_cluster_info_is_refused(cluster_info):
    data, pin = cluster_info
    with pytest.raises(LookupError, match="no JWS signed token .* 'zzzzzz'"):
        check_cluster_info(data, "zzzzzz.0123456789abcdef", pin)      # waited for, then refused
    with pytest.raises(DiscoveryRefused, match="signature for token ID 'abcdef' does not match"):
        check_cluster_info(data, "abcdef.0123456789abcdeX", pin)
    forged = dict(data, kubeconfig=data["kubeconfig"].replace("10.0.0.1", "10.6.6.6"))
    with pytest.raises(DiscoveryRefused, match="does not match"):
        check_cluster_info(forged, TOKEN, pin)
    with pytest.raises(DiscoveryRefused, match="refusing to join"):
        check_cluster_info(data, TOKEN, "sha256:" + "0" * 64)


def test_token_list_rows_as_kubeadm_prints_them():
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
    made = token_secret("abcdef", "0123456789abcdef", 23 * 3600 + 59 * 60, now)
    forever = token_secret("zzzzzz", "0123456789abcdef", 0, now)
    other = {"type": "Opaque", "metadata": {"name": "x", "namespace": "kube-system"},
             "data": {"token-id": base64.b64encode(b"x").decode()}}
    assert token_rows([made, forever, other], now) == [
        ["abcdef.0123456789abcdef", "23h", "2026-06-02T11:59:00Z", "authentication,signing",
         "made by pocketkube token create", "system:bootstrappers:kubeadm:default-node-token"],
        ["zzzzzz.0123456789abcdef", "<forever>", "<never>", "authentication,signing",
         "made by pocketkube token create", "system:bootstrappers:kubeadm:default-node-token"]]
    assert [short_human_duration(s) for s in (-5, 30, 600, 7200, 5 * 86400, 3 * 365 * 86400)] == \
        ["<invalid>", "30s", "10m", "2h", "5d", "3y"]
