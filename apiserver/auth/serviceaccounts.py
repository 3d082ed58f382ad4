"""Service-account tokens: JSON Web Tokens signed with the cluster's SA key (pure, no I/O).

A token is `base64url(header).base64url(claims).base64url(signature)` (RFC 7515
compact form). The PKI's service-account key is ECDSA P-256, so tokens are
ES256: the signature is the raw 32-byte r and s, concatenated (not DER).
The key id in the header is the SHA-256 of the public key's DER, base64url,
so verifiers fetching /openid/v1/jwks can pick the right key.

Claims follow kube-apiserver's bound tokens: iss, sub, aud, exp, iat, nbf, jti
and a private `kubernetes.io` claim naming the namespace, the service account
(name, uid) and the object the token is bound to (pod or secret: name, uid).
Checking that those objects still exist needs the store, and lives in
serviceaccount_tokens.py; this module only signs, parses and checks claims.
"""
from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

# What in-cluster clients see as the API server's name; the default issuer and audience.
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600          # upstream refuses shorter tokens (10 minutes)
MAX_EXPIRATION_SECONDS = 2**32        # and anything this long or longer
# Clocks of the client and the server may differ a little: tolerated on nbf/iat only.
NOT_BEFORE_LEEWAY_SECONDS = 60

SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"
PRIVATE_CLAIM = "kubernetes.io"
ALG = "ES256"


class InvalidToken(ValueError):
    """The token is not one of ours, or not valid now; the message says why (TokenReview.status.error)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise InvalidToken("malformed token") from e


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64(hashlib.sha256(der).digest())


def jwk(public_key: ec.EllipticCurvePublicKey) -> dict:
    """The public key as a JSON Web Key (RFC 7517), for /openid/v1/jwks."""
    nums = public_key.public_numbers()
    return {"use": "sig", "kty": "EC", "kid": key_id(public_key), "crv": "P-256", "alg": ALG,
            "x": _b64(nums.x.to_bytes(32, "big")), "y": _b64(nums.y.to_bytes(32, "big"))}


def service_account_username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def split_username(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a `system:serviceaccount:<ns>:<name>` user, else None."""
    if not username.startswith(SA_PREFIX):
        return None
    ns, sep, name = username[len(SA_PREFIX):].partition(":")
    if not sep or not ns or not name or ":" in name:
        return None
    return ns, name


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (SA_GROUP, f"{SA_GROUP}:{namespace}", "system:authenticated")


@dataclass(frozen=True, slots=True)
class BoundObject:
    kind: str   # Pod, Secret or Node
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class ServiceAccountClaims:
    """What a verified token says about who holds it."""
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires: int
    jti: str = ""
    pod: BoundObject | None = None
    secret: BoundObject | None = None
    node: BoundObject | None = None   # the bound Node, or the node of the bound pod

    @property
    def username(self) -> str:
        return service_account_username(self.namespace, self.name)


def token_claims(*, issuer: str, audiences: list[str], namespace: str, name: str, uid: str,
                 expiration_seconds: int, now: int | None = None, bound: BoundObject | None = None,
                 node: BoundObject | None = None, jti: str | None = None) -> dict:
    """The claims of a new bound token (`node`: where the bound pod runs, as upstream records it)."""
    now = int(time.time()) if now is None else now
    private: dict = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
    for obj in (node, bound):
        if obj is not None:
            private[obj.kind.lower()] = {"name": obj.name, "uid": obj.uid}
    return {"aud": list(audiences), "exp": now + expiration_seconds, "iat": now,
            "iss": issuer, "jti": jti or str(uuid.uuid4()), PRIVATE_CLAIM: private,
            "nbf": now, "sub": service_account_username(namespace, name)}


class TokenSigner:
    """Signs and verifies ES256 tokens with one key pair (the PKI's sa.key / sa.pub)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None, public_key: ec.EllipticCurvePublicKey):
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise ValueError("the service-account key must be ECDSA P-256")
        self._private = private_key
        self.public_key = public_key
        self.kid = key_id(public_key)

    @classmethod
    def from_pem(cls, private_pem: bytes | None, public_pem: bytes) -> "TokenSigner":
        priv = serialization.load_pem_private_key(private_pem, password=None) if private_pem else None
        return cls(priv, serialization.load_pem_public_key(public_pem))

    def sign(self, claims: dict) -> str:
        if self._private is None:
            raise RuntimeError("this signer only verifies")
        header = _b64(orjson.dumps({"alg": ALG, "kid": self.kid}))
        payload = _b64(orjson.dumps(claims))
        signing_input = f"{header}.{payload}".encode()
        r, s = decode_dss_signature(self._private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{header}.{payload}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def verify(self, token: str) -> dict:
        """The claims of a token this key signed; InvalidToken otherwise. Claims are not checked here."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a JWT")
        try:
            header = orjson.loads(_unb64(parts[0]))
        except orjson.JSONDecodeError:
            raise InvalidToken("malformed token header") from None
        if not isinstance(header, dict) or header.get("alg") != ALG:
            raise InvalidToken("unsupported signing algorithm")
        raw = _unb64(parts[2])
        if len(raw) != 64:
            raise InvalidToken("invalid signature")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            self.public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise InvalidToken("invalid signature") from None
        try:
            claims = orjson.loads(_unb64(parts[1]))
        except orjson.JSONDecodeError:
            raise InvalidToken("malformed token claims") from None
        if not isinstance(claims, dict):
            raise InvalidToken("malformed token claims")
        return claims


def _bound(private: dict, kind: str) -> BoundObject | None:
    ref = private.get(kind.lower())
    if not isinstance(ref, dict) or not ref.get("name"):
        return None
    return BoundObject(kind, str(ref["name"]), str(ref.get("uid", "")))


def _number(claims: dict, key: str) -> int | None:
    v = claims.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidToken(f"malformed {key} claim")
    return int(v)


def check_claims(claims: dict, *, issuers: tuple[str, ...], audiences: tuple[str, ...],
                 now: int | None = None) -> ServiceAccountClaims:
    """Issuer, audience and time checks, then the service-account identity the token names."""
    now = int(time.time()) if now is None else now
    if claims.get("iss") not in issuers:
        raise InvalidToken("token issuer is not trusted")
    aud = claims.get("aud")
    aud = (aud,) if isinstance(aud, str) else tuple(a for a in (aud or ()) if isinstance(a, str))
    if audiences and not set(aud) & set(audiences):
        raise InvalidToken("token audiences is invalid")
    exp = _number(claims, "exp")
    if exp is None:
        raise InvalidToken("token has no expiry")
    if now >= exp:
        raise InvalidToken("service account token has expired")
    nbf = _number(claims, "nbf")
    if nbf is not None and now + NOT_BEFORE_LEEWAY_SECONDS < nbf:
        raise InvalidToken("service account token is not valid yet")
    private = claims.get(PRIVATE_CLAIM)
    if not isinstance(private, dict):
        raise InvalidToken("token has no kubernetes.io claim")
    sa = private.get("serviceaccount") or {}
    namespace = private.get("namespace")
    name, uid = sa.get("name"), sa.get("uid")
    if not (isinstance(namespace, str) and isinstance(name, str) and namespace and name):
        raise InvalidToken("token names no service account")
    if claims.get("sub") != service_account_username(namespace, name):
        raise InvalidToken("token subject does not match its service account")
    return ServiceAccountClaims(namespace=namespace, name=name, uid=str(uid or ""), audiences=aud, expires=exp,
                                jti=str(claims.get("jti") or ""), pod=_bound(private, "Pod"),
                                secret=_bound(private, "Secret"), node=_bound(private, "Node"))


def looks_like_jwt(token: str) -> bool:
    """Cheap test before trying a signature: other authenticators' tokens are not JWTs."""
    return token.count(".") == 2 and token.startswith("eyJ")
