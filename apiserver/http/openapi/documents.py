"""The OpenAPI documents, built once per process from the catalogue and schemas.

`/openapi/v3` is an index of per-group-version documents, each addressed with a
content hash so clients can cache it forever; `/openapi/v2` is one Swagger 2.0
document for everything. Each document is serialized once and its bytes and
hash kept, so serving it costs a dictionary lookup.

When custom resources come or go the documents are built again, which takes
tenths of a second: `built()` does it in a worker thread, one build shared by
every request that waits for it, so the event loop keeps serving the rest.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import orjson

from openapi import catalogue

from apiserver.machinery import schemas

from . import components, paths

_INFO = {"title": "Kubernetes", "version": "v" + schemas.KUBERNETES_VERSION}
_BEARER = {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                           "description": "Bearer Token authentication"}}


@dataclass(frozen=True, slots=True)
class Document:
    body: bytes
    hash: str  # upper-case hex SHA-512 of body, as kube-apiserver publishes

    @property
    def etag(self) -> str:
        return f'"{self.hash}"'


def _document(doc: dict) -> Document:
    body = orjson.dumps(doc)
    return Document(body=body, hash=hashlib.sha512(body).hexdigest().upper())


def v3_dict(gv: catalogue.GroupVersion) -> dict:
    return {
        "openapi": "3.0.0",
        "info": _INFO,
        "paths": paths.group_version_paths(gv),
        "components": {
            "schemas": components.component_schemas(paths.root_schemas(gv)),
            "securitySchemes": _BEARER,
        },
        "security": [{"BearerToken": []}],
    }


def doc_path(gv: catalogue.GroupVersion) -> str:
    """`api/v1`, `apis/coordination.k8s.io/v1`: the key in the v3 index."""
    return paths.group_prefix(gv.group, gv.version).lstrip("/")


def generation() -> int:
    """Moves whenever the served catalogue changes (custom resources come and go)."""
    return catalogue.load().generation


# (builder name, catalogue generation) -> the build in flight or done
_builds: dict[tuple[str, int], asyncio.Future] = {}


async def built(fn):
    """`fn()` (a builder of this module or protobuf_v2, cached per catalogue generation),
    run in a worker thread the first time for a generation; later calls answer at once."""
    key = (fn.__qualname__, generation())
    fut = _builds.get(key)
    if fut is None:
        for old in [k for k in _builds if k[0] == key[0]]:
            del _builds[old]
        fut = _builds[key] = asyncio.ensure_future(asyncio.to_thread(fn))
    if fut.done() and fut.exception() is not None:
        del _builds[key]   # let the next request try again
        return fut.result()
    return await asyncio.shield(fut)


def v3_documents() -> dict[str, Document]:
    return _v3_documents(generation())


@lru_cache(maxsize=1)
def _v3_documents(gen: int) -> dict[str, Document]:
    cat = catalogue.load()
    return {doc_path(gv): _v3_document(gv, 0 if cat.is_builtin(gv) else gen) for gv in cat.group_versions}


@lru_cache(maxsize=256)
def _v3_document(gv: catalogue.GroupVersion, stamp: int) -> Document:
    """One group-version's document; built-in ones are built once, whatever else changes."""
    return _document(v3_dict(gv))


def v3_index() -> Document:
    return _v3_index(generation())


@lru_cache(maxsize=1)
def _v3_index(gen: int) -> Document:
    return _document({"paths": {
        key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={d.hash}"} for key, d in v3_documents().items()
    }})


# ---- Swagger 2.0 -------------------------------------------------------------

def _v2_refs(node):
    if isinstance(node, dict):
        return {k: (v.replace(components.V3_REF, components.V2_REF) if k == "$ref" and isinstance(v, str)
                    else _v2_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_v2_refs(v) for v in node]
    return node


def _v2_param(p: dict) -> dict:
    out = {k: v for k, v in p.items() if k != "schema"}
    out["type"] = p["schema"]["type"]
    return out


def _v2_operation(op: dict) -> dict:
    out = {k: v for k, v in op.items() if k not in ("parameters", "requestBody", "responses")}
    params = [_v2_param(p) for p in op.get("parameters", [])]
    body = op.get("requestBody")
    if body:
        types = list(body["content"])
        params.insert(0, {"name": "body", "in": "body", "required": True,
                          "schema": _v2_refs(next(iter(body["content"].values()))["schema"])})
        out["consumes"] = types
    produces: list[str] = []
    responses = {}
    for code, resp in op["responses"].items():
        r = {"description": resp["description"]}
        content = resp.get("content")
        if content:
            r["schema"] = _v2_refs(next(iter(content.values()))["schema"])
            produces.extend(t for t in content if t not in produces)
        responses[code] = r
    if produces:
        out["produces"] = produces
    out["schemes"] = ["https"]
    if params:
        out["parameters"] = params
    out["responses"] = responses
    return out


def v2_dict() -> dict:
    all_paths: dict[str, dict] = {}
    roots: list[str] = []
    for gv in catalogue.load().group_versions:
        for path, item in paths.group_version_paths(gv).items():
            all_paths[path] = {m: ([_v2_param(p) for p in v] if m == "parameters" else _v2_operation(v))
                               for m, v in item.items()}
        roots.extend(paths.root_schemas(gv))
    return {
        "swagger": "2.0",
        "info": _INFO,
        "paths": dict(sorted(all_paths.items())),
        "definitions": components.component_schemas(roots, components.V2_REF, wrap_refs=False),
        "securityDefinitions": _BEARER,
        "security": [{"BearerToken": []}],
    }


def v2_document() -> Document:
    return _v2_document(generation())


@lru_cache(maxsize=1)
def _v2_document(gen: int) -> Document:
    return _document(v2_dict())
