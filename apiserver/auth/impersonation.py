"""User impersonation (`kubectl --as`, `--as-group`, `--as-uid`): Impersonate-* request headers.

The authenticated user must be allowed the verb `impersonate` on each thing it
asks to become: `users` (or `serviceaccounts` in the account's namespace for a
service-account name), `groups`, `uids` and `userextras/<key>` (the last two in
authentication.k8s.io). Then the request runs as the impersonated user.

Headers arrive as a dict; every Impersonate-Group of several is read through its
`getlist` where the HTTP layer provides one (http/app.RequestHeaders).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo

from .serviceaccounts import service_account_groups, split_username
from .tokens import AUTHENTICATED_GROUP

USER_HEADER = "impersonate-user"
GROUP_HEADER = "impersonate-group"
UID_HEADER = "impersonate-uid"
EXTRA_PREFIX = "impersonate-extra-"
ANONYMOUS_USER = "system:anonymous"


@dataclass(slots=True)
class ImpersonationCheck:
    """What the impersonator must be allowed: authorizer attributes (RequestInfo field names)."""
    resource: str
    name: str
    namespace: str = ""
    group: str = ""
    verb: str = "impersonate"
    is_resource_request: bool = True
    subresource: str = ""
    version: str = ""
    path: str = ""
    parts: list[str] = field(default_factory=list)

    @property
    def api_group(self) -> str:
        return self.group


def requested(headers: dict[str, str]) -> tuple[UserInfo, list[ImpersonationCheck]] | None:
    """The identity asked for and the checks it needs; None without Impersonate-* headers."""
    lower = {k.lower(): v for k, v in headers.items()}
    name = lower.get(USER_HEADER)
    getlist = getattr(headers, "getlist", None)  # every Impersonate-Group, when the HTTP layer kept them
    groups = [g for g in (getlist(GROUP_HEADER) if getlist else [lower.get(GROUP_HEADER)]) if g]
    uid = lower.get(UID_HEADER, "")
    extra = {k[len(EXTRA_PREFIX):]: (v,) for k, v in lower.items() if k.startswith(EXTRA_PREFIX)}
    if name is None:
        if groups or uid or extra:
            raise errors.bad_request("requested impersonation of groups, uid or extra without impersonating a user")
        return None
    checks: list[ImpersonationCheck] = []
    sa = split_username(name)
    if sa is not None:
        checks.append(ImpersonationCheck("serviceaccounts", sa[1], namespace=sa[0]))
    else:
        checks.append(ImpersonationCheck("users", name))
    checks += [ImpersonationCheck("groups", g) for g in groups]
    if uid:
        checks.append(ImpersonationCheck("uids", uid, group="authentication.k8s.io"))
    for key, values in extra.items():
        checks += [ImpersonationCheck("userextras", v, group="authentication.k8s.io", subresource=key)
                   for v in values]
    if not groups and sa is not None:
        groups = list(service_account_groups(sa[0]))
    if name != ANONYMOUS_USER and AUTHENTICATED_GROUP not in groups:
        groups.append(AUTHENTICATED_GROUP)
    return UserInfo(name, uid=uid, groups=tuple(groups), extra=extra), checks


def forbidden(user: UserInfo, check: ImpersonationCheck) -> errors.StatusError:
    qualified = f"{check.resource}.{check.group}" if check.group else check.resource
    where = f' in the namespace "{check.namespace}"' if check.namespace else " at the cluster scope"
    return errors.forbidden(f'{qualified} "{check.name}" is forbidden: User "{user.name}" cannot impersonate '
                            f'resource "{check.resource}" in API group "{check.group}"{where}',
                            name=check.name, group=check.group, kind=check.resource)


async def impersonate(user: UserInfo, headers: dict[str, str], authorizer) -> UserInfo:
    """The user the request runs as: `user` itself, or whom it may and asks to impersonate (else 403)."""
    asked = requested(headers)
    if asked is None:
        return user
    target, checks = asked
    for check in checks:
        allowed, _ = await authorizer.authorize(user, check)
        if not allowed:
            raise forbidden(user, check)
    return target
