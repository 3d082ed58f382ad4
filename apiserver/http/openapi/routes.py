"""HTTP routes for the OpenAPI documents: /openapi/v3, /openapi/v3/<gv>, /openapi/v2.

Caching follows what clients expect of kube-apiserver: every document carries
an ETag (its hash) and `If-None-Match` with it answers 304; a v3 document asked
for with its current `?hash=` is immutable and may be cached for a year, one
asked for with a stale hash is redirected to the current URL.
"""
from __future__ import annotations

from email.utils import formatdate
import time

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from apiserver.machinery import errors

from . import documents, protobuf_v2

_JSON = "application/json"
PROTO_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# What the response says it is: '@' is not allowed in a media type, so the served
# type spells the version with a dot (Go clients parse the Content-Type strictly).
PROTO_V2_SERVED = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_YEAR = 365 * 24 * 3600


def _status(err: errors.StatusError) -> Response:
    return Response(orjson.dumps(err.status()), status_code=err.code, media_type=_JSON)


def _matches(request: Request, doc: documents.Document) -> bool:
    header = request.headers.get("if-none-match", "")
    tags = {t.strip() for t in header.split(",")}
    return doc.etag in tags or "*" in tags


def _serve(request: Request, doc: documents.Document, media_type: str, immutable: bool = False) -> Response:
    headers = {"ETag": doc.etag, "Vary": "Accept"}
    if immutable:
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = formatdate(time.time() + _YEAR, usegmt=True)
    else:
        headers["Cache-Control"] = "no-cache, private"
    if _matches(request, doc):
        return Response(status_code=304, headers=headers)
    return Response(doc.body, media_type=media_type, headers=headers)


def _wants_only_protobuf(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "protobuf" in accept and "json" not in accept and "*/*" not in accept


async def v3_index(request: Request) -> Response:
    if _wants_only_protobuf(request):
        return _status(errors.not_acceptable("only application/json is served for the OpenAPI v3 index"))
    return _serve(request, await documents.built(documents.v3_index), _JSON)


async def v3_group_version(request: Request) -> Response:
    key = request.path_params["path"].strip("/")
    doc = (await documents.built(documents.v3_documents)).get(key)
    if doc is None:
        return _status(errors.StatusError(404, "NotFound", "the server could not find the requested resource"))
    if _wants_only_protobuf(request):
        return _status(errors.not_acceptable("only application/json is served for OpenAPI v3 documents"))
    wanted = request.query_params.get("hash")
    if wanted is not None and wanted != doc.hash:
        # A stale hash from a cached index: send the client to the current document.
        return RedirectResponse(f"/openapi/v3/{key}?hash={doc.hash}", status_code=301,
                                headers={"Cache-Control": "no-cache, private"})
    return _serve(request, doc, _JSON, immutable=wanted is not None)


async def v2(request: Request) -> Response:
    accept = request.headers.get("accept", "")
    if PROTO_V2 in accept and ("json" not in accept or accept.index(PROTO_V2) < accept.index("json")):
        return _serve(request, await documents.built(protobuf_v2.document), PROTO_V2_SERVED)
    return _serve(request, await documents.built(documents.v2_document), _JSON)


def routes() -> list[Route]:
    return [
        Route("/openapi/v3", v3_index, methods=["GET"]),
        Route("/openapi/v3/", v3_index, methods=["GET"]),
        Route("/openapi/v3/{path:path}", v3_group_version, methods=["GET"]),
        Route("/openapi/v2", v2, methods=["GET"]),
    ]
