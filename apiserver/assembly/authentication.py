"""The authenticator chain and the auth APIs, wired to the server's own authorizer.

install_auth_apis builds the chain the app authenticates with (client
certificates of the --client-ca-file, the token file, service-account JWTs, bootstrap tokens), registers the review kinds as virtual creates
(http/handlers/reviews.py answers them) and the serviceaccounts/token
subresource that mints JWTs, so tokens minted here are accepted everywhere.
"""
from __future__ import annotations

from pathlib import Path

from apiserver.auth.bootstrap_tokens import BootstrapTokenAuthenticator
from apiserver.auth.serviceaccount_tokens import (BearerAuthenticators, ServiceAccountTokenAuthenticator,
                                                  TokenRequestHandler)
from apiserver.auth.serviceaccounts import DEFAULT_ISSUER, TokenSigner
from apiserver.auth.x509 import ClientCertificateAuthenticator
from apiserver.http.handlers.reviews import review_handlers


def load_signer(sa_key: Path, sa_pub: Path) -> TokenSigner:
    return TokenSigner.from_pem(Path(sa_key).read_bytes(), Path(sa_pub).read_bytes())


def install_auth_apis(registries, token_file, authorizer, sa_key: Path, sa_pub: Path,
                      issuer: str = DEFAULT_ISSUER, client_ca_file: Path | None = None,
                      max_token_expiration: int = 0) -> BearerAuthenticators:
    """Register the reviews and serviceaccounts/token; return the authenticator chain to serve with.
    `max_token_expiration`: --service-account-max-token-expiration in seconds (0: no cap)."""
    signer = load_signer(sa_key, sa_pub)
    audiences = (issuer,)
    sa_tokens = ServiceAccountTokenAuthenticator(signer, registries, issuers=(issuer,), audiences=audiences)
    certificates = ClientCertificateAuthenticator(Path(client_ca_file).read_bytes()) if client_ca_file else None
    chain = BearerAuthenticators(token_file, sa_tokens, authorizer, client_certificates=certificates,
                                 bootstrap_tokens=BootstrapTokenAuthenticator(registries))
    for (group, plural), create in review_handlers(chain, authorizer).items():
        registries.register_virtual(group, plural, create)
    registries.register_subresource("", "serviceaccounts", "token",
                                    TokenRequestHandler(signer, registries, issuer, audiences,
                                                        max_expiration_seconds=max_token_expiration))
    return chain
