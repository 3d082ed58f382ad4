"""OIDC discovery for service-account tokens, so other parties can verify them.

  /.well-known/openid-configuration   the issuer and where its keys are
  /openid/v1/jwks                     the public signing key as a JWK set

Upstream serves these to any authenticated caller (the
system:service-account-issuer-discovery role is bound to all service
accounts); here any authenticated user may read them, others get a 401 Status.
"""
from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apiserver.auth.serviceaccounts import ALG, TokenSigner, jwk
from apiserver.http.credentials import request_credentials
from apiserver.http.responses import status_response
from apiserver.machinery import errors

JWKS_PATH = "/openid/v1/jwks"


def discovery_document(issuer: str) -> dict:
    return {"issuer": issuer, "jwks_uri": issuer.rstrip("/") + JWKS_PATH,
            "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALG]}


def oidc_routes(authenticator, signer: TokenSigner, issuer: str) -> list[Route]:
    config = orjson.dumps(discovery_document(issuer))
    keys = orjson.dumps({"keys": [jwk(signer.public_key)]})

    def serve(body: bytes, media: str):
        async def endpoint(request: Request):
            if await authenticator.authenticate(request_credentials(request.scope)) is None:
                return status_response(errors.unauthorized())
            return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})
        return endpoint

    return [Route("/.well-known/openid-configuration", serve(config, "application/json"), methods=["GET"]),
            Route(JWKS_PATH, serve(keys, "application/jwk-set+json"), methods=["GET"])]
