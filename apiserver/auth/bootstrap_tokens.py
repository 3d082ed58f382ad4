"""Bootstrap tokens, as kubeadm makes them and kube-apiserver's bootstrap token
authenticator accepts them.

A token `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}) is a Secret `bootstrap-token-<id>` in
kube-system of type bootstrap.kubernetes.io/token, whose data holds token-id and
token-secret, `usage-bootstrap-authentication: "true"`, an optional `expiration`
(RFC 3339) and optional `auth-extra-groups` (each `system:bootstrappers:...`). It logs in
as `system:bootstrap:<id>` in the groups system:bootstrappers, the extra ones and
system:authenticated; an expired, deleted or mismatched token logs nobody in.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import re

from apiserver.machinery.user import UserInfo

from .tokens import AUTHENTICATED_GROUP, bearer_token

NAMESPACE = "kube-system"
SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_PREFIX = "bootstrap-token-"
USER_PREFIX = "system:bootstrap:"
GROUP = "system:bootstrappers"
TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")


def _data(secret: dict, key: str) -> str:
    value = (secret.get("data") or {}).get(key)
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _expired(secret: dict, now: dt.datetime) -> bool:
    text = _data(secret, "expiration")
    if not text:
        return False
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) <= now
    except ValueError:
        return True   # an expiration that does not parse is treated as passed, as upstream


def user_for(token: str, secret: dict | None, now: dt.datetime) -> UserInfo | None:
    """The user a bootstrap token logs in as, given its Secret (pure)."""
    m = TOKEN_PATTERN.match(token)
    if m is None or secret is None or secret.get("type") != SECRET_TYPE:
        return None
    token_id, token_secret = m.groups()
    if (secret.get("metadata") or {}).get("deletionTimestamp"):
        return None
    if _data(secret, "token-id") != token_id or not hmac.compare_digest(_data(secret, "token-secret"), token_secret):
        return None
    if _data(secret, "usage-bootstrap-authentication") != "true" or _expired(secret, now):
        return None
    extra = [g.strip() for g in _data(secret, "auth-extra-groups").split(",") if g.strip()]
    if any(not g.startswith(GROUP + ":") for g in extra):
        return None   # upstream refuses the token when an extra group is outside system:bootstrappers
    return UserInfo(USER_PREFIX + token_id, groups=(GROUP, *extra, AUTHENTICATED_GROUP))


class BootstrapTokenAuthenticator:
    def __init__(self, registries):
        self.registries = registries

    async def lookup(self, token: str) -> UserInfo | None:
        m = TOKEN_PATTERN.match(token)
        if m is None:
            return None
        stored = await self.registries.for_plural("", "secrets").get_or_none(NAMESPACE, SECRET_PREFIX + m.group(1))
        return user_for(token, stored.obj if stored is not None else None, dt.datetime.now(dt.timezone.utc))

    async def authenticate(self, headers) -> UserInfo | None:
        token = bearer_token(headers)
        return await self.lookup(token) if token is not None else None
