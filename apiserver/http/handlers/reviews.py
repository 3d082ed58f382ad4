"""The authentication and authorization review APIs, answered with the server's
own authenticator chain and authorizer.

Creates of the review kinds are virtual (answered, never stored): the generic
create handler decodes and checks the body, then calls the handler registered
for the kind (assembly/authentication.py registers these) with the request's
user in the write context.
"""
from __future__ import annotations

from apiserver.auth import reviews
from apiserver.auth.serviceaccount_tokens import BearerAuthenticators
from apiserver.auth.serviceaccounts import InvalidToken
from apiserver.registry.context import WriteContext


def _modes(authorizer) -> list[str]:
    return list(getattr(authorizer, "modes", None) or ["AlwaysAllow"])


def review_handlers(authenticators: BearerAuthenticators, authorizer) -> dict[tuple[str, str], object]:
    """(group, plural) -> async create(namespace, body, ctx) for every review kind."""

    async def self_subject_review(namespace: str, body: dict, ctx: WriteContext):
        return 201, reviews.self_subject_review(body, ctx.user)

    async def token_review(namespace: str, body: dict, ctx: WriteContext):
        token, audiences = reviews.token_review_spec(body)
        try:
            user, accepted = await authenticators.review(token, audiences)
        except InvalidToken as e:
            return 201, reviews.token_review(body, None, (), f"[invalid bearer token, {e}]")
        return 201, reviews.token_review(body, user, accepted)

    async def self_subject_access_review(namespace: str, body: dict, ctx: WriteContext):
        attrs = reviews.access_attributes(body, "SelfSubjectAccessReview")
        allowed, reason = await authorizer.authorize(ctx.user, attrs)
        return 201, reviews.access_review(body, "SelfSubjectAccessReview", allowed, reason)

    async def subject_access_review(namespace: str, body: dict, ctx: WriteContext):
        attrs = reviews.access_attributes(body, "SubjectAccessReview")
        user = reviews.subject_user(body)
        allowed, reason = await authorizer.authorize(user, attrs)
        return 201, reviews.access_review(body, "SubjectAccessReview", allowed, reason)

    async def local_subject_access_review(namespace: str, body: dict, ctx: WriteContext):
        attrs = reviews.local_access_attributes(body, namespace)
        user = reviews.subject_user(body, "LocalSubjectAccessReview")
        allowed, reason = await authorizer.authorize(user, attrs)
        out = reviews.access_review(body, "LocalSubjectAccessReview", allowed, reason)
        out["metadata"]["namespace"] = namespace
        return 201, out

    async def self_subject_rules_review(namespace: str, body: dict, ctx: WriteContext):
        ns = reviews.rules_review_namespace(body)
        modes, rbac = _modes(authorizer), getattr(authorizer, "rbac", None)
        found = await rbac.rules_for(ctx.user, ns) if rbac is not None and "RBAC" in modes else None
        return 201, reviews.self_subject_rules_review(body, reviews.rules_for(modes, ctx.user, found))

    return {
        (reviews.AUTHN, "selfsubjectreviews"): self_subject_review,
        (reviews.AUTHN, "tokenreviews"): token_review,
        (reviews.AUTHZ, "selfsubjectaccessreviews"): self_subject_access_review,
        (reviews.AUTHZ, "subjectaccessreviews"): subject_access_review,
        (reviews.AUTHZ, "localsubjectaccessreviews"): local_subject_access_review,
        (reviews.AUTHZ, "selfsubjectrulesreviews"): self_subject_rules_review,
    }
