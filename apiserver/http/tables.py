"""Server-side conversions for kubectl: Table and PartialObjectMetadata(List).

Columns and cells come from the resource's Strategy (columns(), cells()); this
module only assembles the meta.k8s.io envelopes around them.
"""
from __future__ import annotations

from typing import Callable, Iterator

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


def _kept(item: StoredObject) -> bool:
    return True


def _row(strategy: Strategy, item: StoredObject, include: str, api_version: str, now, keep=_kept) -> bytes:
    obj = item.obj if keep(item) else item.transient_obj()
    cells = orjson.dumps(strategy.cells(obj, now))
    if include == "None":
        return b'{"cells":' + cells + b"}"
    if include == "Object":
        return b'{"cells":' + cells + b',"object":' + (item.json if keep(item) else item.transient_json()) + b"}"
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


# A list body is a head, the items' bytes joined by commas, and a tail: whole for small
# answers, streamed a slice of items at a time for large ones (see stream_list).
ListParts = tuple[bytes, Callable[[StoredObject], bytes], bytes]


def table_parts(resource: Resource, strategy: Strategy, out: Output, query, *,
                resource_version: int | None = None, continue_token: str = "", remaining: int | None = None,
                with_columns: bool = True, keep=_kept) -> ListParts:
    include = include_policy(query)
    api_version = out.api_version
    cols = orjson.dumps(strategy.columns() if with_columns else [])
    now = now_utc()
    head = (b'{"kind":"Table","apiVersion":"' + api_version.encode() + b'","metadata":'
            + _list_meta(resource_version, continue_token, remaining)
            + b',"columnDefinitions":' + cols + b',"rows":[')
    return head, lambda i: _row(strategy, i, include, api_version, now, keep), b"]}"


def table(resource: Resource, strategy: Strategy, items: list[StoredObject], out: Output, query, *,
          resource_version: int | None = None, continue_token: str = "", remaining: int | None = None,
          with_columns: bool = True) -> bytes:
    return join_list(table_parts(resource, strategy, out, query, resource_version=resource_version,
                                 continue_token=continue_token, remaining=remaining,
                                 with_columns=with_columns), items)


def partial_list_parts(out: Output, *, resource_version: int | None = None, continue_token: str = "",
                       remaining: int | None = None, keep=_kept) -> ListParts:
    api_version = out.api_version
    head = (b'{"kind":"PartialObjectMetadataList","apiVersion":"' + api_version.encode() + b'","metadata":'
            + _list_meta(resource_version, continue_token, remaining) + b',"items":[')
    return (head, lambda i: orjson.dumps(partial(i.obj if keep(i) else i.transient_obj(), api_version)),
            b"]}")


def plain_list_parts(resource: Resource, *, resource_version: int | None = None, continue_token: str = "",
                     remaining: int | None = None, keep=_kept) -> ListParts:
    """The <Kind>List: each object's cached bytes."""
    head = (b'{"kind":"' + resource.list_kind.encode() + b'","apiVersion":"' + resource.api_version.encode()
            + b'","metadata":' + _list_meta(resource_version, continue_token, remaining) + b',"items":[')
    return head, lambda i: i.json if keep(i) else i.transient_json(), b"]}"


def plain_list(resource: Resource, items: list[StoredObject], *, resource_version: int | None = None,
               continue_token: str = "", remaining: int | None = None) -> bytes:
    return join_list(plain_list_parts(resource, resource_version=resource_version,
                                      continue_token=continue_token, remaining=remaining), items)


def join_list(parts: ListParts, items: list[StoredObject]) -> bytes:
    head, render, tail = parts
    return head + b",".join(render(i) for i in items) + tail


def stream_list(parts: ListParts, items: list[StoredObject], per_chunk: int) -> Iterator[bytes]:
    """The same bytes as join_list, `per_chunk` items at a time: memory for a slice of
    the answer, not the whole of it."""
    head, render, tail = parts
    yield head
    for start in range(0, len(items), per_chunk):
        chunk = b",".join(render(i) for i in items[start:start + per_chunk])
        yield b"," + chunk if start else chunk
    yield tail


def render_one(resource: Resource, strategy: Strategy, item: StoredObject, out: Output, query) -> bytes:
    """A single object in the requested form."""
    if out.convert == "Table":
        return table(resource, strategy, [item], out, query)
    if out.convert == "PartialObjectMetadata":
        return orjson.dumps(partial(item.obj, out.api_version))
    if out.convert == "PartialObjectMetadataList":
        raise errors.not_acceptable()
    return item.json


def list_parts(resource: Resource, strategy: Strategy, page, out: Output, query, keep=_kept) -> ListParts:
    """The parts of a LIST answer in the requested form. `keep(item)`: whether what is
    decoded or encoded for an item may stay memoized on it."""
    kw = dict(resource_version=page.resource_version, continue_token=page.continue_token,
              remaining=page.remaining, keep=keep)
    if out.convert == "Table":
        return table_parts(resource, strategy, out, query, **kw)
    if out.convert == "PartialObjectMetadataList":
        return partial_list_parts(out, **kw)
    if out.convert == "PartialObjectMetadata":
        raise errors.not_acceptable()
    return plain_list_parts(resource, **kw)


def render_list(resource: Resource, strategy: Strategy, page, out: Output, query) -> bytes:
    return join_list(list_parts(resource, strategy, page, out, query), page.items)
