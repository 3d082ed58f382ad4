"""PATCH: the patch type is chosen by Content-Type.

json-patch, merge-patch and strategic-merge-patch are applied to the current
object inside the registry's read-modify-write loop (so they retry on
conflicts); a resourceVersion the patch sets is a precondition. Server-side
apply (application/apply-patch+yaml) goes to `apply_patch` below, where the
managed-fields code plugs in.
"""
from __future__ import annotations

import orjson

from apiserver.http.codec import decode_document, media_type, read_body
from apiserver.http.context import RequestContext
from apiserver.http.handlers.apply import apply_patch as server_side_apply, forbid_force
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import object_response
from apiserver.http.tables import render_one
from apiserver.machinery import bytefields, errors, fieldvalidation, schemas, typecheck

from apiserver.machinery import patch as _patch

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"


def apply_patch_document(kind: str, current: dict, patch, group: str, version: str, obj_kind: str) -> dict:
    """The patched object (pure)."""
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return _patch.json_patch(current, patch)
    if not isinstance(patch, dict):
        raise errors.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    if kind == MERGE_PATCH:
        return _patch.merge_patch(current, patch)
    return _patch.strategic_merge_patch(current, patch, schemas.for_kind(group, version, obj_kind))


async def patch(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    ct = media_type(rc.request)
    if ct in (APPLY, APPLY_CBOR):
        return await apply_patch(rc)
    strategic = rc.store.strategy.supports_strategic_merge if rc.store else True
    if ct not in (JSON_PATCH, MERGE_PATCH, STRATEGIC) or (ct == STRATEGIC and not strategic):
        accepted = f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY}" + (f", {STRATEGIC}" if strategic else "")
        raise errors.StatusError(415, "UnsupportedMediaType",
                                 f"the body of the request was in an unknown format - accepted media types "
                                 f"include: {accepted}")
    forbid_force(rc.query)
    body = await read_body(rc.request)
    doc, dups = await decode_document(body, "application/json")
    how = fieldvalidation.directive(rc.query, "PatchOptions")
    r = rc.resource
    wctx = rc.write_context()
    sub = rc.info.subresource
    if sub and sub != "status":
        return await _patch_custom_subresource(rc, ct, doc, out, wctx)
    schema = schemas.for_kind(r.group, r.version, r.kind)
    field_warnings: list[str] = []

    async def transform(current: dict) -> dict:
        rv = current["metadata"].get("resourceVersion")
        patched = _apply(ct, current, doc, r.group, r.version, r.kind)
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch did not produce an object")
        bytefields.canonicalize(patched, r.group, r.version, r.kind)
        if schema is not None:  # unknown/duplicate fields, per fieldValidation (may run more than once)
            field_warnings[:] = fieldvalidation.enforce_patched(
                patched, dups if ct != JSON_PATCH else [], schema, how)
        prv = (patched.get("metadata") or {}).get("resourceVersion")
        if prv and prv != rv:
            raise errors.stale_update(r.group, r.plural, rc.info.name)
        return patched

    item = await rc.store.guaranteed_update(rc.namespace, rc.info.name, transform, wctx, subresource=sub)
    return object_response(render_one(r, rc.store.strategy, item, out, rc.query), out, 200,
                           field_warnings + wctx.warnings, rc.pretty)


def _apply(ct: str, current: dict, doc, group: str, version: str, kind: str) -> dict:
    try:
        return apply_patch_document(ct, current, doc, group, version, kind)
    except errors.StatusError:
        raise
    except Exception as e:  # a patch library's own error: the patch is bad, not the server
        raise errors.StatusError(422, "Invalid", str(e)) from None


async def _patch_custom_subresource(rc: RequestContext, ct: str, doc, out, wctx):
    """PATCH of /scale and the like: the handler applies the patch to what it would GET, inside
    the store's read-modify-write loop, as upstream's patcher runs inside its update loop: a
    controller writing the object meanwhile is retried, not the client's 409 (a patch that sets
    another resourceVersion still gets its 409)."""
    r = rc.resource
    sub = rc.resource.subresource(rc.info.subresource)
    handler = rc.server.registries.subresource(r.group, r.plural, rc.info.subresource)
    if handler is None or not hasattr(handler, "patch"):
        raise errors.method_not_allowed()
    group = sub.group if sub and sub.group is not None else r.group
    version = sub.version if sub and sub.version else r.version
    kind = sub.kind if sub else r.kind
    schema = schemas.for_kind(group, version, kind)

    def patched(current: dict) -> dict:
        new = _apply(ct, current, doc, group, version, kind)
        bad_type = schema is not None and typecheck.first_type_error(new, schema, kind)
        if bad_type:   # what the handler reads must have its declared shape, as after Go's decoding
            raise errors.bad_request(bad_type)
        return new

    result = await handler.patch(rc.store, rc.namespace, rc.info.name, patched, wctx)
    return object_response(orjson.dumps(result), out, 200, wctx.warnings, rc.pretty)


async def apply_patch(rc: RequestContext):
    """Server-side apply (handlers/apply.py)."""
    return await server_side_apply(rc)
