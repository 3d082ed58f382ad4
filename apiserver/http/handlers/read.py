"""GET of one object, and lists."""
from __future__ import annotations

from apiserver.http.context import RequestContext
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import object_response
from apiserver.http.tables import render_list, render_one
from apiserver.registry.options import ListOptions


async def get(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    item = await rc.store.get(rc.namespace, rc.info.name)
    body = render_one(rc.resource, rc.store.strategy, item, out, rc.query)
    return object_response(body, out, pretty=rc.pretty, warnings=_deprecation(rc))


async def list_(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    opts = ListOptions.from_query(rc.query)
    page = await rc.store.list(rc.namespace, opts)
    body = render_list(rc.resource, rc.store.strategy, page, out, rc.query)
    return object_response(body, out, pretty=rc.pretty, warnings=_deprecation(rc))


def _deprecation(rc: RequestContext) -> list[str] | None:
    """A deprecated kind's warning, as upstream sends it with every response for it."""
    text = getattr(rc.store.strategy, "deprecation", "")
    return [text] if text else None
