"""TokenRequest limits of a server of its own: --service-account-max-token-expiration shortens
longer requests (with upstream's warning, never an error), expirationSeconds under 600 is a
422 naming spec.expirationSeconds, driven by the official client and `kubectl create token`."""
from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.harness import kubectl_runner, running_server

MAX = 7200   # --service-account-max-token-expiration=2h


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tokens")
    with running_server(tmp / "data", extra_args=["--service-account-max-token-expiration=2h"]) as srv:
        api = config.new_client_from_config(config_file=str(srv.kubeconfig))
        core = client.CoreV1Api(api)
        ns = f"tok-{uuid.uuid4().hex[:6]}"
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app")))
        yield srv, core, ns, kubectl_runner(srv.kubeconfig, tmp / "kubectl")
        api.close()


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _request(core, ns: str, seconds: int):
    body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds))
    return core.create_namespaced_service_account_token_with_http_info("app", ns, body)


def test_longer_requests_are_shortened_to_the_maximum_with_a_warning(capped):
    _, core, ns, _ = capped
    out, code, headers = _request(core, ns, 86400)
    assert code == 201
    assert out.spec.expiration_seconds == MAX
    c = claims(out.status.token)
    assert c["exp"] - c["iat"] == MAX
    issued = dt.datetime.fromtimestamp(c["iat"], dt.timezone.utc)
    assert out.status.expiration_timestamp - issued == dt.timedelta(seconds=MAX)
    assert headers.get("Warning") == '299 - "requested expiration of 86400 seconds shortened to 7200 seconds"'


def test_requests_within_the_maximum_are_kept(capped):
    _, core, ns, _ = capped
    out, code, headers = _request(core, ns, 3600)
    assert code == 201 and out.spec.expiration_seconds == 3600
    c = claims(out.status.token)
    assert c["exp"] - c["iat"] == 3600
    assert "Warning" not in headers


def test_under_ten_minutes_is_invalid_whatever_the_maximum(capped):
    _, core, ns, _ = capped
    with pytest.raises(ApiException) as e:
        _request(core, ns, 599)
    assert e.value.status == 422
    status = json.loads(e.value.body)
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                                            "message": "Invalid value: 599: may not specify a duration less "
                                                       "than 10 minutes"}]


def test_kubectl_create_token_duration_is_capped(capped):
    _, _, ns, kubectl = capped
    cp = kubectl("create", "token", "app", "-n", ns, "--duration=24h")
    c = claims(cp.stdout.strip())
    assert c["exp"] - c["iat"] == MAX
    assert "requested expiration of 86400 seconds shortened to 7200 seconds" in cp.stderr
    c = claims(kubectl("create", "token", "app", "-n", ns, "--duration=90m").stdout.strip())
    assert c["exp"] - c["iat"] == 5400
    cp = kubectl("create", "token", "app", "-n", ns, "--duration=5m", check=False)
    assert cp.returncode != 0
    assert "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes" in cp.stderr
