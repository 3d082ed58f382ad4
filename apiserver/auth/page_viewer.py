"""The cluster page's user may only read what the page shows, whatever the
authorization mode (the default, AlwaysAllow, would let its token do anything).

Its token sits in a browser tab and in the address `pocketkube up` prints, so it is
held to reading: get/list/watch of the kinds the page draws, and GET /metrics.
Everyone else is decided by the wrapped authorizer. Under RBAC the
pocketkube:cluster-viewer role grants the same, so both agree.
"""
from __future__ import annotations

from typing import Any

from apiserver.auth.credentials import PAGE_USER
from apiserver.machinery.user import UserInfo

PAGE_RESOURCES = frozenset((("", "nodes"), ("", "pods"), ("", "services"), ("", "events"), ("", "namespaces"),
                            ("discovery.k8s.io", "endpointslices")))
PAGE_PATHS = frozenset(("/metrics",))
_READ = frozenset(("get", "list", "watch"))


def page_may(attributes: Any) -> bool:
    if not attributes.is_resource_request:
        return attributes.verb == "get" and attributes.path in PAGE_PATHS
    return (attributes.verb in _READ and (attributes.group, attributes.resource) in PAGE_RESOURCES
            and not attributes.subresource)


class PageViewerLimit:
    """Wraps an authorizer (anything with `authorize(user, attributes)`)."""

    def __init__(self, inner):
        self.inner = inner

    async def authorize(self, user: UserInfo, attributes: Any) -> tuple[bool, str]:
        if user.name == PAGE_USER:
            if page_may(attributes):
                return True, ""
            return False, "the cluster page's user may only read what the page shows"
        return await self.inner.authorize(user, attributes)

    def __getattr__(self, name):   # what else callers use of the wrapped authorizer
        return getattr(self.inner, name)
