"""GET of one object, and lists."""
from __future__ import annotations

from starlette.responses import StreamingResponse

from apiserver.http.context import RequestContext
from apiserver.http.negotiation import JSON, negotiate
from apiserver.http.responses import object_response
from apiserver.http.tables import list_parts, render_list, render_one, stream_list
from apiserver.machinery import queryparams as qp
from apiserver.machinery.fieldvalidation import warning_header
from apiserver.registry.options import ListOptions

# LISTs of more items than this are streamed (JSON, not pretty-printed; YAML and pretty
# JSON are made from the whole answer), this many items to a chunk.
STREAM_ABOVE = 500
ITEMS_PER_CHUNK = 200


async def get(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    item = await rc.store.get(rc.namespace, rc.info.name, qp.string(rc.query, "resourceVersion"))
    body = render_one(rc.resource, rc.store.strategy, item, out, rc.query)
    return object_response(body, out, pretty=rc.pretty, warnings=_deprecation(rc))


async def list_(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    opts = ListOptions.from_query(rc.query)
    page = await rc.store.list(rc.namespace, opts)
    if len(page.items) > STREAM_ABOVE and out.media == JSON and not rc.pretty:
        # Streamed a slice at a time; objects the registry's cache has let go of are
        # rendered without memoizing onto them (the page holds every one until the end).
        parts = list_parts(rc.resource, rc.store.strategy, page, out, rc.query, keep=rc.store.cache.holds)
        resp = StreamingResponse(stream_list(parts, page.items, ITEMS_PER_CHUNK), media_type=JSON)
        for value in _deprecation(rc) or ():
            resp.raw_headers.append((b"warning", warning_header(value).encode(errors="replace")))
        return resp
    body = render_list(rc.resource, rc.store.strategy, page, out, rc.query)
    return object_response(body, out, pretty=rc.pretty, warnings=_deprecation(rc))


def _deprecation(rc: RequestContext) -> list[str] | None:
    """A deprecated kind's warning, as upstream sends it with every response for it."""
    text = getattr(rc.store.strategy, "deprecation", "")
    return [text] if text else None
