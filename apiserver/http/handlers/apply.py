"""Server-side apply: PATCH with Content-Type application/apply-patch+yaml.

The body is the manager's configuration (YAML, or JSON, which is YAML). It is
applied to the current object inside the registry's read-modify-write loop
(machinery.managedfields.apply: merge, prune, conflicts, ownership); when the
object does not exist, applying creates it. `fieldManager` is required,
`force=true` takes over conflicting fields, `dryRun=All` stores nothing.
"""
from __future__ import annotations

from apiserver.http.codec import off_loop, read_body
from apiserver.http.context import RequestContext
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import object_response
from apiserver.http.tables import render_one
from apiserver.machinery import bytefields, errors, fieldvalidation, managedfields, queryparams, schemas, typecheck
from apiserver.machinery.managedfields import writes
from apiserver.registry.objects import now_rfc3339


def _patch_options_invalid(field: str, detail: str) -> errors.StatusError:
    cause = errors.Cause("FieldValueRequired" if detail.startswith("Required") else "FieldValueForbidden",
                         detail, field)
    return errors.StatusError(422, "Invalid", f'PatchOptions.meta.k8s.io "" is invalid: {field}: {detail}',
                              group="meta.k8s.io", kind="PatchOptions", causes=[cause])


def forbid_force(query) -> None:
    """`force` belongs to apply patches only (upstream validates PatchOptions so)."""
    if queryparams.optional_flag(query, "force") is not None:
        raise _patch_options_invalid("force", "Forbidden: may not be specified for non-apply patch")


async def _decode(body: bytes):
    """JSON when it looks like JSON (what kubectl sends), else YAML; duplicates noted either way."""
    if not body.strip():
        raise errors.bad_request("the body of the request was empty")
    kind = "application/json" if body.lstrip()[:1] in (b"{", b"[") else "application/yaml"
    try:
        return await off_loop(fieldvalidation.decode_strict, body, kind)
    except errors.StatusError as e:
        raise errors.bad_request("error decoding YAML: " + e.message.removeprefix("error decoding request body: ")) \
            from None


def _check_identity(config: dict, name: str, namespace: str) -> None:
    meta = config.get("metadata")
    if meta is None:
        meta = config["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    given = meta.get("name")
    if given and given != name:
        raise errors.bad_request(f"the name of the object ({given}) does not match the name on the URL ({name})")
    meta["name"] = name
    ns = meta.get("namespace")
    if namespace and ns and ns != namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                 "request")


async def apply_patch(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    r = rc.resource
    sub = rc.info.subresource
    if sub and sub != "status":
        raise errors.unsupported_media_type("application/apply-patch+yaml")
    if "cbor" in (rc.request.headers.get("content-type") or ""):
        raise errors.unsupported_media_type("application/apply-patch+cbor")  # CBOR is off upstream too
    manager = queryparams.first(rc.query, "fieldManager")
    if not manager:
        raise _patch_options_invalid("fieldManager", "Required value: is required for apply patch")
    force = queryparams.optional_flag(rc.query, "force") is True
    how = fieldvalidation.directive(rc.query, "PatchOptions")
    body = await read_body(rc.request)
    config, duplicates = await _decode(body)
    if not isinstance(config, dict):
        raise errors.bad_request("error decoding YAML: the apply configuration must be an object")
    schema = schemas.for_kind(r.group, r.version, r.kind)
    bad_type = schema is not None and typecheck.first_type_error(config, schema, r.kind)
    if bad_type:
        raise errors.bad_request(f"error decoding YAML: {bad_type}")
    wctx = rc.write_context()
    if duplicates and how != fieldvalidation.IGNORE:
        # upstream checks apply bodies with its strict YAML reader, hence YAML wording and lines
        text = (await off_loop(lambda b, _: fieldvalidation.yaml_duplicate_error(b), body, "application/yaml")
                or ", ".join(fieldvalidation.problems(duplicates, [])))
        if how == fieldvalidation.STRICT:
            raise errors.bad_request(f"error strict decoding YAML: {text}")
        wctx.warnings.append(text)
    _check_identity(config, rc.info.name, rc.namespace)
    wctx.options[writes.APPLIED] = True
    wanted_rv = (config.get("metadata") or {}).get("resourceVersion")
    common = dict(force=force, api_version=r.api_version, kind=r.kind, subresource=sub,
                  ignored=writes.ignored_paths(r, sub))

    def _decoded(obj: dict) -> dict:
        bytefields.canonicalize(obj, r.group, r.version, r.kind)
        return obj

    async def transform(current: dict) -> dict:
        if wanted_rv and current["metadata"].get("resourceVersion") != wanted_rv:
            raise errors.stale_update(r.group, r.plural, rc.info.name)
        return _decoded(managedfields.apply(current, config, manager, now=now_rfc3339(), **common))

    try:
        item = await rc.store.guaranteed_update(rc.namespace, rc.info.name, transform, wctx, subresource=sub)
        code = 200
    except errors.StatusError as e:
        if e.code != 404 or sub or wanted_rv:
            raise
        obj = _decoded(managedfields.apply(None, config, manager, now=now_rfc3339(), **common))
        item = await rc.store.create(rc.namespace, obj, wctx)
        code = 201
    return object_response(render_one(r, rc.store.strategy, item, out, rc.query), out, code, wctx.warnings,
                           rc.pretty)
