"""Service-account tokens against the store: minting them (serviceaccounts/<name>/token)
and accepting them as credentials (the authenticator), plus the bearer-token chain.

TokenRequest (authentication.k8s.io/v1), POSTed to the subresource:
  spec.audiences          default: the API server's own audiences (its issuer)
  spec.expirationSeconds  default 3600; at least 600, less than 2^32; more than
                          --service-account-max-token-expiration is shortened
                          to it, with a warning (as upstream: not an error)
  spec.boundObjectRef     optional Pod or Secret (apiVersion v1) in the same
                          namespace, or a Node; the token dies with that object
                          (a pod's node is recorded too, not checked)
The answer echoes the request with the spec defaulted and status.token /
status.expirationTimestamp filled, as upstream does. Admission runs on it as on
any create (serviceaccounts/token): NodeRestriction lets a node ask only for
tokens bound to a pod of its own.

A token is accepted while its signature, issuer, audience and expiry check out
(serviceaccounts.check_claims) AND the service account it names still exists
with the same uid, AND the object it is bound to (if any) still exists with the
same uid: deleting either revokes every token minted for it.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict

from apiserver.machinery import errors
from apiserver.machinery.timeutil import format_time
from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import Attributes
from apiserver.registry.context import WriteContext

from .serviceaccounts import (DEFAULT_EXPIRATION_SECONDS, MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS,
                              BoundObject, InvalidToken, ServiceAccountClaims, TokenSigner, check_claims,
                              looks_like_jwt, service_account_groups, token_claims)
from .impersonation import impersonate
from .tokens import bearer_token

GROUP = "authentication.k8s.io"
BINDABLE_KINDS = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}
INVALIDATED = "service account token has been invalidated"

EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
EXTRA_NODE_NAME = "authentication.kubernetes.io/node-name"
EXTRA_NODE_UID = "authentication.kubernetes.io/node-uid"


def _invalid(name: str, field: str, value, message: str) -> errors.StatusError:
    return errors.invalid(GROUP, "TokenRequest", name, [
        errors.Cause("FieldValueInvalid", f"Invalid value: {value}: {message}", field)])


def token_request_spec(name: str, spec: dict, default_audiences: tuple[str, ...]) -> dict:
    """The request's spec, defaulted and checked (422 as upstream words it)."""
    if not isinstance(spec, dict):
        raise errors.bad_request("TokenRequest spec must be an object")
    out = dict(spec)
    audiences = out.get("audiences") or list(default_audiences)
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise errors.bad_request("spec.audiences must be a list of strings")
    out["audiences"] = audiences
    seconds = out.get("expirationSeconds")
    if seconds is None:
        seconds = DEFAULT_EXPIRATION_SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise errors.bad_request("spec.expirationSeconds must be an integer")
    if seconds < MIN_EXPIRATION_SECONDS:
        raise _invalid(name, "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")
    if seconds >= MAX_EXPIRATION_SECONDS:
        raise _invalid(name, "spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds")
    out["expirationSeconds"] = seconds
    return out


class TokenRequestHandler:
    """The `serviceaccounts/token` subresource (create only)."""

    def __init__(self, signer: TokenSigner, registries, issuer: str, audiences: tuple[str, ...],
                 max_expiration_seconds: int = 0):
        self.signer = signer
        self.registries = registries
        self.issuer = issuer
        self.audiences = audiences
        self.max_expiration_seconds = max_expiration_seconds   # 0: no cap

    async def create(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> tuple[int, dict]:
        kind = body.get("kind") or "TokenRequest"
        if kind != "TokenRequest" or (body.get("apiVersion") or f"{GROUP}/v1") != f"{GROUP}/v1":
            raise errors.bad_request(f"the object provided is unrecognized (must be of type TokenRequest): {kind}")
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request("the name of the object does not match the name on the URL")
        # Admission sees the TokenRequest as upstream's does: mutating first, validating once the
        # spec is defaulted and checked (NodeRestriction: a node's tokens only for its own pods).
        attrs = Attributes("CREATE", store.resource, "token", namespace, name, body, None, ctx.user, ctx.dry_run,
                           ctx.options)
        await ctx.mutate(attrs)
        body = attrs.object
        sa = await store.get(namespace, name)   # 404 serviceaccounts "x" not found
        spec = token_request_spec(name, body.get("spec") or {}, self.audiences)
        attrs.object = {**body, "spec": spec}
        await ctx.validate(attrs)
        ctx.warnings.extend(attrs.warnings)
        sa_uid = sa.metadata.get("uid", "")
        bound, node = await self._bound_object(namespace, name, spec.get("boundObjectRef"))
        cap = self.max_expiration_seconds
        if cap and spec["expirationSeconds"] > cap:
            ctx.warnings.append(f"requested expiration of {spec['expirationSeconds']} seconds shortened to "
                                f"{cap} seconds")
            spec["expirationSeconds"] = cap
        now = int(time.time())
        claims = token_claims(issuer=self.issuer, audiences=spec["audiences"], namespace=namespace, name=name,
                              uid=sa_uid, expiration_seconds=spec["expirationSeconds"], now=now, bound=bound,
                              node=node)
        expires = dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc)
        out = {"kind": "TokenRequest", "apiVersion": f"{GROUP}/v1",
               "metadata": {"name": name, "namespace": namespace,
                            "creationTimestamp": format_time(dt.datetime.fromtimestamp(now, dt.timezone.utc))},
               "spec": spec,
               "status": {"token": self.signer.sign(claims), "expirationTimestamp": format_time(expires)}}
        return 201, out

    async def _bound_object(self, namespace: str, sa_name: str, ref) -> tuple[BoundObject | None, BoundObject | None]:
        """(the bound object, the node the bound pod runs on) of a boundObjectRef."""
        if not ref:
            return None, None
        if not isinstance(ref, dict):
            raise errors.bad_request("spec.boundObjectRef must be an object")
        kind, api_version = ref.get("kind", ""), ref.get("apiVersion", "")
        if kind not in BINDABLE_KINDS or api_version != "v1":
            raise errors.bad_request(f"cannot bind token to object of type {api_version or 'v1'}, Kind={kind}")
        plural = BINDABLE_KINDS[kind]
        obj = await self.registries.for_plural("", plural).get("" if kind == "Node" else namespace,
                                                               ref.get("name", ""))
        uid = obj.metadata.get("uid", "")
        if ref.get("uid") and ref["uid"] != uid:
            raise errors.conflict("", kind, ref.get("name", ""),
                                  f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                                  "in record. The object might have been deleted and then recreated")
        if kind == "Pod":
            pod_sa = (obj.obj.get("spec") or {}).get("serviceAccountName") or "default"
            if pod_sa != sa_name:
                raise errors.bad_request(f'cannot bind token for serviceaccount "{sa_name}" to pod running with '
                                         f'different serviceaccount name.')
        bound = BoundObject(kind, obj.metadata.get("name", ""), uid)
        if kind == "Node":
            return bound, None
        node_name = (obj.obj.get("spec") or {}).get("nodeName") if kind == "Pod" else None
        if not node_name:
            return bound, None
        # A node that is gone still names where the pod was put (no uid), as upstream.
        node = await self.registries.for_plural("", "nodes").get_or_none("", node_name)
        return bound, BoundObject("Node", node_name, node.metadata.get("uid", "") if node is not None else "")


class ServiceAccountTokenAuthenticator:
    """Bearer JWTs minted by TokenRequestHandler (or by anything holding sa.key)."""

    # Signatures already checked, by token: an ECDSA verify costs ~100 us and clients
    # send the same token on every request. Claims (expiry...) are still checked each time.
    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, signer: TokenSigner, registries, issuers: tuple[str, ...], audiences: tuple[str, ...]):
        self.signer = signer
        self.registries = registries
        self.issuers = issuers
        self.audiences = audiences
        self._verified: OrderedDict[str, dict] = OrderedDict()

    def _verify(self, token: str) -> dict:
        claims = self._verified.get(token)
        if claims is not None:
            self._verified.move_to_end(token)
            return claims
        claims = self.signer.verify(token)
        self._verified[token] = claims
        if len(self._verified) > self.VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def authenticate_token(self, token: str, audiences: tuple[str, ...] = ()) -> tuple[UserInfo, tuple[str, ...]]:
        """(user, the audiences it was accepted for); InvalidToken with the reason otherwise."""
        wanted = tuple(audiences) or self.audiences
        claims = check_claims(self._verify(token), issuers=self.issuers, audiences=wanted)
        await self._still_valid(claims)
        extra: dict[str, tuple[str, ...]] = {}
        if claims.pod is not None:
            extra[EXTRA_POD_NAME] = (claims.pod.name,)
            extra[EXTRA_POD_UID] = (claims.pod.uid,)
        if claims.node is not None:
            extra[EXTRA_NODE_NAME] = (claims.node.name,)
            extra[EXTRA_NODE_UID] = (claims.node.uid,)
        if claims.jti:
            extra[EXTRA_CREDENTIAL_ID] = (f"JTI={claims.jti}",)
        user = UserInfo(claims.username, uid=claims.uid, groups=service_account_groups(claims.namespace),
                        extra=extra)
        return user, tuple(a for a in wanted if a in claims.audiences)

    async def _still_valid(self, claims: ServiceAccountClaims) -> None:
        sa = await self.registries.for_plural("", "serviceaccounts").get_or_none(claims.namespace, claims.name)
        if sa is None or (claims.uid and sa.metadata.get("uid") != claims.uid):
            raise InvalidToken(INVALIDATED)
        # A node claim beside a pod only says where the pod ran; alone, it is what the token is bound to.
        node_bound = claims.node if claims.pod is None and claims.secret is None else None
        for bound in (claims.pod, claims.secret, node_bound):
            if bound is None:
                continue
            obj = await self.registries.for_plural("", BINDABLE_KINDS[bound.kind]).get_or_none(
                "" if bound.kind == "Node" else claims.namespace, bound.name)
            if obj is None or (bound.uid and obj.metadata.get("uid") != bound.uid):
                raise InvalidToken(INVALIDATED)

    async def authenticate(self, headers: dict[str, str]) -> UserInfo | None:
        token = bearer_token(headers)
        if token is None or not looks_like_jwt(token):
            return None
        try:
            user, _ = await self.authenticate_token(token)
        except InvalidToken:
            return None
        return user


class BearerAuthenticators:
    """The server's authenticator chain, in kube-apiserver's order: the client certificate
    (when the server verifies them: `client_certificates`), the token file,
    service-account JWTs, then bootstrap tokens. The first that knows the request wins.

    The HTTP layer calls `authenticate(headers)`; TokenReview calls
    `review(token, audiences)` to run the same chain on a token it was handed.
    """

    def __init__(self, token_file, service_accounts: ServiceAccountTokenAuthenticator, authorizer=None,
                 client_certificates=None, bootstrap_tokens=None):
        self.client_certificates = client_certificates   # x509.ClientCertificateAuthenticator or None
        self.bootstrap_tokens = bootstrap_tokens         # bootstrap_tokens.BootstrapTokenAuthenticator or None
        self.token_file = token_file
        self.service_accounts = service_accounts
        self.authorizer = authorizer  # for Impersonate-* headers; None: impersonation is ignored

    @property
    def audiences(self) -> tuple[str, ...]:
        return self.service_accounts.audiences

    @property
    def issuer(self) -> str:
        return self.service_accounts.issuers[0]

    async def authenticate(self, headers: dict[str, str]) -> UserInfo | None:
        """The request's user (after impersonation, which may raise a 403 StatusError)."""
        user = await self.authenticate_requester(headers)
        return await self.impersonate(user, headers) if user is not None else None

    async def impersonate(self, user: UserInfo, headers: dict[str, str]) -> UserInfo:
        """Whom `user` acts as: itself, or the Impersonate-* headers' identity it may take (else 403)."""
        return await impersonate(user, headers, self.authorizer) if self.authorizer is not None else user

    async def authenticate_requester(self, headers: dict[str, str]) -> UserInfo | None:
        """Who sent the request, before impersonation (what the audit log records as `user`)."""
        user = None
        if self.client_certificates is not None:
            user = self.client_certificates.authenticate_chain(getattr(headers, "client_cert_chain", ()))
        if user is None:
            user = await self.token_file.authenticate(headers)
        if user is None:
            user = await self.service_accounts.authenticate(headers)
        if user is None and self.bootstrap_tokens is not None:
            user = await self.bootstrap_tokens.authenticate(headers)
        return user

    async def review(self, token: str, audiences: tuple[str, ...] = ()) -> tuple[UserInfo, tuple[str, ...]]:
        """(user, audiences) for a token, or InvalidToken naming why it was refused."""
        user = self.token_file.lookup(token)
        if user is not None:
            # The token file knows no audiences: its tokens are good for whatever the API server is.
            return user, tuple(audiences) or self.audiences
        if self.bootstrap_tokens is not None and not looks_like_jwt(token):
            user = await self.bootstrap_tokens.lookup(token)
            if user is not None:
                return user, tuple(audiences) or self.audiences
        if not looks_like_jwt(token):
            raise InvalidToken("invalid bearer token")
        return await self.service_accounts.authenticate_token(token, tuple(audiences))
