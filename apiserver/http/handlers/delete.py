"""DELETE of one object, and deletecollection."""
from __future__ import annotations

from apiserver.http.codec import decode_options
from apiserver.http.context import RequestContext
from apiserver.http.negotiation import negotiate
from apiserver.http.responses import dict_response, object_response
from apiserver.http.tables import plain_list
from apiserver.registry.options import DeleteOptions, ListOptions

# Kinds whose DELETE answers with the object even when it is gone at once
# (upstream's ReturnDeletedObject); the others answer with a Success Status.
RETURNS_DELETED = {("", "pods"), ("", "services"), ("", "namespaces"), ("", "nodes"), ("", "resourcequotas"),
                   ("", "serviceaccounts"), ("storage.k8s.io", "storageclasses"), ("storage.k8s.io", "csidrivers"),
                   ("", "persistentvolumes"), ("", "persistentvolumeclaims")}


async def delete(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"), allow_conversion=False)
    body = await decode_options(rc.request, "DeleteOptions")
    opts = DeleteOptions.from_request(rc.query, body)
    wctx = rc.write_context(dry_run=opts.dry_run)
    item, gone = await rc.store.delete(rc.namespace, rc.info.name, opts, wctx)
    r = rc.resource
    if gone and (r.group, r.plural) not in RETURNS_DELETED:
        meta = item.obj.get("metadata") or {}
        details = {"name": meta.get("name", rc.info.name), "group": r.group, "kind": r.plural,
                   "uid": meta.get("uid", "")}
        if not r.group:
            del details["group"]
        return dict_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": details}, out, 200, wctx.warnings, rc.pretty)
    return object_response(item.json, out, 200, wctx.warnings, rc.pretty)


async def delete_collection(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"), allow_conversion=False)
    body = await decode_options(rc.request, "DeleteOptions")
    opts = DeleteOptions.from_request(rc.query, body)
    wctx = rc.write_context(dry_run=opts.dry_run)
    items = await rc.store.delete_collection(rc.namespace, ListOptions.from_query(rc.query), opts, wctx)
    return object_response(plain_list(rc.resource, items), out, 200, wctx.warnings, rc.pretty)
