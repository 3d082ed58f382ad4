"""Service-account JWTs: ES256 signing, verification, claim checks (pure)."""
import base64

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from apiserver.auth.serviceaccounts import (DEFAULT_ISSUER, BoundObject, InvalidToken, TokenSigner, check_claims,
                                            jwk, looks_like_jwt, service_account_groups, split_username,
                                            token_claims)

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def signer():
    key = ec.generate_private_key(ec.SECP256R1())
    return TokenSigner(key, key.public_key())


def claims(**kw):
    args = dict(issuer=DEFAULT_ISSUER, audiences=[DEFAULT_ISSUER], namespace="ns1", name="builder",
                uid="sa-uid", expiration_seconds=3600, now=NOW)
    args.update(kw)
    return token_claims(**args)


def check(c, now=NOW + 10, audiences=(DEFAULT_ISSUER,)):
    return check_claims(c, issuers=(DEFAULT_ISSUER,), audiences=audiences, now=now)


def _part(token, i):
    p = token.split(".")[i]
    return orjson.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def test_sign_verify_round_trip(signer):
    token = signer.sign(claims())
    assert looks_like_jwt(token)
    header = _part(token, 0)
    assert header == {"alg": "ES256", "kid": signer.kid}
    got = signer.verify(token)
    assert got["sub"] == "system:serviceaccount:ns1:builder"
    assert got["aud"] == [DEFAULT_ISSUER] and got["iss"] == DEFAULT_ISSUER
    assert got["exp"] - got["iat"] == 3600 and got["nbf"] == NOW
    assert got["kubernetes.io"] == {"namespace": "ns1", "serviceaccount": {"name": "builder", "uid": "sa-uid"}}
    c = check(got)
    assert (c.namespace, c.name, c.uid, c.username) == ("ns1", "builder", "sa-uid", "system:serviceaccount:ns1:builder")
    assert c.jti and c.pod is None


def test_bound_pod_claim(signer):
    c = check(signer.verify(signer.sign(claims(bound=BoundObject("Pod", "web-0", "pod-uid")))))
    assert c.pod == BoundObject("Pod", "web-0", "pod-uid")


def test_tampered_payload_is_refused(signer):
    token = signer.sign(claims())
    h, p, s = token.split(".")
    forged = base64.urlsafe_b64encode(orjson.dumps({**claims(), "sub": "system:serviceaccount:ns1:admin"})).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(f"{h}.{forged}.{s}")


def test_other_key_is_refused(signer):
    other = ec.generate_private_key(ec.SECP256R1())
    token = TokenSigner(other, other.public_key()).sign(claims())
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(token)


@pytest.mark.parametrize("token", ["garbage", "a.b", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "..."])
def test_garbage_is_refused(signer, token):
    with pytest.raises(InvalidToken):
        signer.verify(token)


def test_alg_none_is_refused(signer):
    token = signer.sign(claims())
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="algorithm"):
        signer.verify(none_header + token[token.index("."):])


def test_expired():
    with pytest.raises(InvalidToken, match="expired"):
        check(claims(), now=NOW + 3600)


def test_not_yet_valid_beyond_leeway():
    check(claims(), now=NOW - 30)   # small clock skew is fine
    with pytest.raises(InvalidToken, match="not valid yet"):
        check(claims(), now=NOW - 120)


def test_wrong_audience_and_issuer():
    with pytest.raises(InvalidToken, match="audiences"):
        check(claims(audiences=["vault"]))
    assert check(claims(audiences=["vault", "x"]), audiences=("vault",)).audiences == ("vault", "x")
    with pytest.raises(InvalidToken, match="issuer"):
        check(claims(issuer="https://elsewhere"))


def test_subject_must_match_private_claim():
    c = claims()
    c["sub"] = "system:serviceaccount:kube-system:admin"
    with pytest.raises(InvalidToken, match="subject"):
        check(c)


def test_usernames_and_groups():
    assert split_username("system:serviceaccount:ns:sa") == ("ns", "sa")
    assert split_username("system:serviceaccount:ns") is None
    assert split_username("alice") is None
    assert service_account_groups("ns") == ("system:serviceaccounts", "system:serviceaccounts:ns",
                                            "system:authenticated")


def test_jwk_reconstructs_the_public_key(signer):
    k = jwk(signer.public_key)
    assert (k["kty"], k["crv"], k["alg"], k["kid"]) == ("EC", "P-256", "ES256", signer.kid)
    dec = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")  # noqa: E731
    nums = ec.EllipticCurvePublicNumbers(dec(k["x"]), dec(k["y"]), ec.SECP256R1())
    assert nums.public_key() == signer.public_key


def test_verify_only_signer_cannot_sign(signer):
    verifier = TokenSigner(None, signer.public_key)
    assert verifier.verify(signer.sign(claims()))["sub"].endswith(":builder")
    with pytest.raises(RuntimeError):
        verifier.sign(claims())
