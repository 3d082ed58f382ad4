"""GET/PUT/POST on `<resource>/<name>/<subresource>`.

`status` is the generic store's own (the object, with only status writable);
the rest go to handlers registered with the registries (binding, finalize,
scale, and what other parts of the server add: eviction, token...).
PATCH of subresources is in patch.py.
"""
from __future__ import annotations

import orjson

from apiserver.http.codec import decode_object, read_body, decode_document, media_type
from apiserver.http.context import RequestContext
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import dict_response, object_response
from apiserver.http.tables import render_one
from apiserver.machinery import errors, queryparams as qp, schemas, typecheck


def _handler(rc: RequestContext):
    r = rc.resource
    return rc.server.registries.subresource(r.group, r.plural, rc.info.subresource)


async def get(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    if rc.info.subresource == "status":
        item = await rc.store.get(rc.namespace, rc.info.name, qp.string(rc.query, "resourceVersion"))
        return object_response(render_one(rc.resource, rc.store.strategy, item, out, rc.query), out,
                               pretty=rc.pretty)
    h = _handler(rc)
    if h is None or not hasattr(h, "get"):
        raise errors.method_not_allowed()
    return dict_response(await h.get(rc.store, rc.namespace, rc.info.name), out, pretty=rc.pretty)


async def update(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    r = rc.resource
    wctx = rc.write_context()
    if rc.info.subresource == "status":
        obj, warnings = await decode_object(rc.request, rc.query, r.group, r.version, r.kind)
        wctx.warnings.extend(warnings)
        item, _ = await rc.store.update(rc.namespace, rc.info.name, obj, wctx, subresource="status")
        return object_response(render_one(r, rc.store.strategy, item, out, rc.query), out, 200, wctx.warnings,
                               rc.pretty)
    h = _handler(rc)
    if h is None or not hasattr(h, "update"):
        raise errors.method_not_allowed()
    body = await _body(rc)
    return dict_response(await h.update(rc.store, rc.namespace, rc.info.name, body, wctx), out, 200,
                         wctx.warnings, rc.pretty)


async def create(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    h = _handler(rc)
    if h is None or not hasattr(h, "create"):
        raise errors.method_not_allowed()
    wctx = rc.write_context()
    body = await _body(rc)
    code, result = await h.create(rc.store, rc.namespace, rc.info.name, body, wctx)
    return dict_response(result, out, code, wctx.warnings, rc.pretty)


async def _body(rc: RequestContext) -> dict:
    raw = await read_body(rc.request)
    doc, _ = await decode_document(raw, media_type(rc.request))
    if not isinstance(doc, dict):
        raise errors.bad_request("the body of the request must be an object")
    bad_type = _type_error(rc, doc)
    if bad_type:
        raise errors.bad_request(bad_type)
    return doc


def _type_error(rc: RequestContext, doc: dict) -> str | None:
    """Go's unmarshal error for a field of the wrong type, checked against the kind the body
    names (an Eviction, a Binding, a Scale...), else the subresource's; None when fine."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    schema = None
    if isinstance(api_version, str) and isinstance(kind, str):
        group, _, version = api_version.rpartition("/")
        schema = schemas.for_kind(group, version, kind)
    sub = rc.resource.subresource(rc.info.subresource)
    if schema is None and sub is not None and sub.kind:
        group = sub.group if sub.group is not None else rc.resource.group
        kind = sub.kind
        schema = schemas.for_kind(group, sub.version or rc.resource.version, kind)
    if schema is None:
        return None
    found = typecheck.first_type_error(doc, schema, kind)
    return f'{kind} in version "{api_version or ""}" cannot be handled as a {kind}: {found}' if found else None
