"""POST (create) and PUT (update), for resources and subresources."""
from __future__ import annotations

from apiserver.http.codec import decode_object
from apiserver.http.context import RequestContext
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import dict_response, object_response
from apiserver.http.tables import render_one
from apiserver.machinery import errors


async def create(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    r = rc.resource
    if r.namespaced and not rc.info.namespace:
        raise errors.method_not_allowed()
    if rc.info.name:  # POST to an object URL
        raise errors.method_not_allowed()
    obj, warnings = await decode_object(rc.request, rc.query, r.group, r.version, r.kind)
    wctx = rc.write_context()
    wctx.warnings.extend(warnings)
    if rc.store is None:  # create-only (virtual) resource
        if out.convert:  # reviews have no metadata to tabulate (upstream's 406; a conformance row checks it)
            qualified = f"{r.plural}.{r.group}" if r.group else r.plural
            raise errors.not_acceptable(f"the resource {qualified} does not support being converted to a Table")
        handler = rc.server.registries.virtual(r.group, r.plural)
        if handler is None:
            raise errors.method_not_allowed()
        code, body = await handler(rc.namespace, obj, wctx)
        return dict_response(body, out, code, wctx.warnings, rc.pretty)
    item = await rc.store.create(rc.namespace, obj, wctx)
    return object_response(render_one(r, rc.store.strategy, item, out, rc.query), out, 201, wctx.warnings,
                           rc.pretty)


async def update(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    r = rc.resource
    obj, warnings = await decode_object(rc.request, rc.query, r.group, r.version, r.kind)
    wctx = rc.write_context()
    wctx.warnings.extend(warnings)
    item, created = await rc.store.update(rc.namespace, rc.info.name, obj, wctx)
    return object_response(render_one(r, rc.store.strategy, item, out, rc.query), out,
                           201 if created else 200, wctx.warnings, rc.pretty)
