"""Reading request bodies: the one place every write decodes its body.

Size limit (3 MiB, 413), content type (JSON or YAML, else 415), duplicate and
unknown fields per `fieldValidation` (machinery.fieldvalidation: Strict fails,
Warn answers with Warning headers, Ignore drops), and the apiVersion/kind the
URL expects.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from starlette.requests import Request

from apiserver.http import protobuf
from apiserver.machinery import bytefields, errors, fieldvalidation, schemas, typecheck

MAX_BODY = 3 * 1024 * 1024
# Bodies past these sizes are decoded on a worker thread, so the event loop keeps
# serving others: JSON decodes at tens of MB/s, YAML (PyYAML) at well under one.
OFF_LOOP_JSON, OFF_LOOP_YAML = 16 * 1024, 2 * 1024
# Two at a time: more would only share the same interpreter lock among more decodes.
_DECODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="body-decode")
_DECODABLE = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "")


def _too_large(request: Request) -> errors.StatusError:
    err = errors.request_entity_too_large()
    if request.scope.get("http_version", "1.1").startswith("1"):
        # The unread rest of the body would be taken for the next request: over HTTP/1.x the
        # connection closes after this answer, and saying so keeps clients from reusing it
        # (as Go's server does past its discard limit). HTTP/2 resets just the stream.
        err.headers["Connection"] = "close"
    return err


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large(request)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large(request)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def off_loop(fn, body: bytes, content_type: str):
    """fn(body, content_type), on a worker thread when the body is large enough to be felt."""
    limit = OFF_LOOP_YAML if "yaml" in content_type else OFF_LOOP_JSON
    if len(body) <= limit:
        return fn(body, content_type)
    return await asyncio.get_running_loop().run_in_executor(_DECODERS, fn, body, content_type)


async def decode_document(body: bytes, content_type: str) -> tuple[object, list[str]]:
    """(document, duplicate field paths); 400 on bodies that do not parse."""
    return await off_loop(_decode_document, body, content_type)


def _decode_document(body: bytes, content_type: str) -> tuple[object, list[str]]:
    if content_type == protobuf.CONTENT_TYPE:
        return protobuf.decode(body), []
    if content_type not in _DECODABLE:
        raise errors.unsupported_media_type(content_type)
    if not body.strip():
        raise errors.bad_request("the body of the request was empty")
    try:
        return fieldvalidation.decode_strict(body, content_type)
    except errors.StatusError as e:
        if "yaml" in content_type:
            raise errors.bad_request(f"error converting YAML to JSON: {e.message.removeprefix('error decoding request body: ')}") from None
        raise errors.bad_request("couldn't get version/kind; json parse error: "
                                 + e.message.removeprefix("error decoding request body: ")) from None


def check_type(obj: object, api_version: str, kind: str) -> dict:
    """The body must be an object of the URL's kind (missing fields default to it)."""
    if not isinstance(obj, dict):
        raise errors.bad_request(f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                                 f"{type(obj).__name__} into Go value of type struct")
    got_v = obj.get("apiVersion") or api_version
    got_k = obj.get("kind") or kind
    if not isinstance(got_v, str) or not isinstance(got_k, str):
        raise errors.bad_request("couldn't get version/kind; json parse error: apiVersion and kind must be strings")
    if got_v != api_version:
        raise errors.bad_request(f"the API version in the data ({got_v}) does not match the expected API "
                                 f"version ({api_version})")
    if got_k != kind:
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {kind}): "
                                 f"{got_k} in version \"{got_v}\" cannot be handled as a {kind}")
    obj["apiVersion"], obj["kind"] = api_version, kind
    return obj


async def decode_object(request: Request, query, group: str, version: str, kind: str) -> tuple[dict, list[str]]:
    """Body → object of the expected kind, plus Warning texts (fieldValidation=Warn).
    Decoding and the checks that walk the whole body run off the loop for large bodies."""
    how = fieldvalidation.directive(query, "UpdateOptions" if request.method == "PUT" else "CreateOptions")
    body = await read_body(request)
    api_version = f"{group}/{version}" if group else version

    def decode_and_check(body: bytes, content_type: str) -> tuple[dict, list[str]]:
        doc, dups = _decode_document(body, content_type)
        obj = check_type(doc, api_version, kind)
        bytefields.canonicalize(obj, group, version, kind)
        schema = schemas.for_kind(group, version, kind)
        warnings: list[str] = []
        if schema is not None:
            warnings = fieldvalidation.enforce(obj, dups, schema, how, kind=kind, version=version)
        return obj, warnings

    return await off_loop(decode_and_check, body, media_type(request))


async def decode_options(request: Request, kind: str) -> dict | None:
    """An optional options body (DeleteOptions); None when empty."""
    body = await read_body(request)
    if not body.strip():
        return None
    doc, _ = await decode_document(body, media_type(request) or "application/json")
    if not isinstance(doc, dict):
        raise errors.bad_request(f"expected {kind}")
    name = schemas.name_for_kind("", "v1", kind)
    bad_type = name and typecheck.first_type_error(doc, schemas.definition(name), kind)
    if bad_type:
        raise errors.bad_request(f"couldn't decode {kind}: {bad_type}")
    return doc
