"""Server-side conversions for kubectl: Table and PartialObjectMetadata(List).

Columns and cells come from the resource's Strategy (columns(), cells()); this
module only assembles the meta.k8s.io envelopes around them.
"""
from __future__ import annotations

import orjson

from openapi.catalogue import Resource

from apiserver.http.negotiation import Output
from apiserver.machinery import errors, queryparams
from apiserver.registry.objects import StoredObject
from apiserver.registry.printing.humanize import now_utc
from apiserver.registry.strategy import Strategy

INCLUDE = ("None", "Metadata", "Object")


def include_policy(query) -> str:
    v = queryparams.first(query, "includeObject") or "Metadata"
    if v not in INCLUDE:
        raise errors.bad_request(f'includeObject: Unsupported value: "{v}": supported values: '
                                 '"Metadata", "None", "Object"')
    return v


def partial(obj: dict, api_version: str) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj.get("metadata") or {}}


def _row(strategy: Strategy, item: StoredObject, include: str, api_version: str, now) -> bytes:
    obj = item.obj
    cells = orjson.dumps(strategy.cells(obj, now))
    if include == "None":
        return b'{"cells":' + cells + b"}"
    if include == "Object":
        return b'{"cells":' + cells + b',"object":' + item.json + b"}"
    return b'{"cells":' + cells + b',"object":' + orjson.dumps(partial(obj, api_version)) + b"}"


def _list_meta(resource_version: int | None, continue_token: str = "", remaining: int | None = None) -> bytes:
    meta: dict = {}
    if resource_version:
        meta["resourceVersion"] = str(resource_version)
    if continue_token:
        meta["continue"] = continue_token
    if remaining is not None:
        meta["remainingItemCount"] = remaining
    return orjson.dumps(meta)


def table(resource: Resource, strategy: Strategy, items: list[StoredObject], out: Output, query, *,
          resource_version: int | None = None, continue_token: str = "", remaining: int | None = None,
          with_columns: bool = True) -> bytes:
    include = include_policy(query)
    api_version = out.api_version
    cols = orjson.dumps(strategy.columns() if with_columns else [])
    now = now_utc()
    rows = b",".join(_row(strategy, i, include, api_version, now) for i in items)
    return (b'{"kind":"Table","apiVersion":"' + api_version.encode() + b'","metadata":'
            + _list_meta(resource_version, continue_token, remaining)
            + b',"columnDefinitions":' + cols + b',"rows":[' + rows + b"]}")


def partial_list(items: list[StoredObject], out: Output, *, resource_version: int | None = None,
                 continue_token: str = "", remaining: int | None = None) -> bytes:
    api_version = out.api_version
    body = b",".join(orjson.dumps(partial(i.obj, api_version)) for i in items)
    return (b'{"kind":"PartialObjectMetadataList","apiVersion":"' + api_version.encode() + b'","metadata":'
            + _list_meta(resource_version, continue_token, remaining) + b',"items":[' + body + b"]}")


def plain_list(resource: Resource, items: list[StoredObject], *, resource_version: int | None = None,
               continue_token: str = "", remaining: int | None = None) -> bytes:
    """The <Kind>List: a join of each object's cached bytes."""
    return (b'{"kind":"' + resource.list_kind.encode() + b'","apiVersion":"' + resource.api_version.encode()
            + b'","metadata":' + _list_meta(resource_version, continue_token, remaining)
            + b',"items":[' + b",".join(i.json for i in items) + b"]}")


def render_one(resource: Resource, strategy: Strategy, item: StoredObject, out: Output, query) -> bytes:
    """A single object in the requested form."""
    if out.convert == "Table":
        return table(resource, strategy, [item], out, query)
    if out.convert == "PartialObjectMetadata":
        return orjson.dumps(partial(item.obj, out.api_version))
    if out.convert == "PartialObjectMetadataList":
        raise errors.not_acceptable()
    return item.json


def render_list(resource: Resource, strategy: Strategy, page, out: Output, query) -> bytes:
    kw = dict(resource_version=page.resource_version, continue_token=page.continue_token,
              remaining=page.remaining)
    if out.convert == "Table":
        return table(resource, strategy, page.items, out, query, **kw)
    if out.convert == "PartialObjectMetadataList":
        return partial_list(page.items, out, **kw)
    if out.convert == "PartialObjectMetadata":
        raise errors.not_acceptable()
    return plain_list(resource, page.items, **kw)
