"""The cluster page's user reads what the page shows and nothing else, in every
authorization mode; other users are the wrapped authorizer's to decide."""
from __future__ import annotations

import pytest

from apiserver.auth.authorizer import ModeAuthorizer
from apiserver.auth.credentials import PAGE_GROUP, PAGE_USER
from apiserver.auth.page_viewer import PageViewerLimit
from apiserver.http.requestinfo import parse_request_info
from apiserver.machinery.user import UserInfo

PAGE = UserInfo(name=PAGE_USER, groups=(PAGE_GROUP,))
ADMIN = UserInfo(name="admin", groups=("system:masters",))


def info(method: str, path: str, query: dict | None = None):
    return parse_request_info(method, path, query or {})


@pytest.mark.parametrize("method,path,query", [
    ("GET", "/api/v1/nodes", {}),
    ("GET", "/api/v1/pods", {"watch": "1"}),
    ("GET", "/api/v1/namespaces/default/pods/web", {}),
    ("GET", "/apis/discovery.k8s.io/v1/endpointslices", {"watch": "true"}),
    ("GET", "/api/v1/events", {}),
    ("GET", "/metrics", {}),
])
async def test_the_page_reads_what_it_draws(method, path, query):
    allowed, _ = await PageViewerLimit(ModeAuthorizer(["AlwaysDeny"])).authorize(PAGE, info(method, path, query))
    assert allowed


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/secrets"),
    ("GET", "/api/v1/namespaces/default/configmaps"),
    ("POST", "/api/v1/namespaces/default/pods"),
    ("DELETE", "/api/v1/namespaces/default/pods/web"),
    ("PATCH", "/api/v1/nodes/n1"),
    ("GET", "/api/v1/namespaces/default/pods/web/log"),
    ("POST", "/api/v1/namespaces/default/pods/web/exec"),
    ("GET", "/api/v1/nodes/n1/proxy/metrics"),
    ("GET", "/apis/apps/v1/deployments"),
    ("GET", "/logs/"),
])
async def test_the_page_writes_nothing_and_reads_nothing_else_even_under_always_allow(method, path):
    allowed, reason = await PageViewerLimit(ModeAuthorizer(["AlwaysAllow"])).authorize(PAGE, info(method, path))
    assert not allowed and "only read" in reason


async def test_other_users_are_left_to_the_wrapped_authorizer():
    limit = PageViewerLimit(ModeAuthorizer(["AlwaysAllow"]))
    assert (await limit.authorize(ADMIN, info("POST", "/api/v1/namespaces/default/pods")))[0]
