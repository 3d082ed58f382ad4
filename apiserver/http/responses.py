"""Building responses: objects (already JSON bytes), Status errors, YAML."""
from __future__ import annotations

import json

import orjson
import yaml
from starlette.responses import Response

from apiserver.http.negotiation import JSON, YAML, Output
from apiserver.machinery.errors import StatusError
from apiserver.machinery.fieldvalidation import warning_header


def _headers(warnings: list[str] | None) -> list[tuple[bytes, bytes]]:
    return [(b"warning", warning_header(w).encode(errors="replace")) for w in (warnings or ())]


def raw_response(body: bytes, media: str = JSON, status: int = 200,
                 warnings: list[str] | None = None) -> Response:
    resp = Response(body, status_code=status, media_type=media)
    if warnings:
        resp.raw_headers.extend(_headers(warnings))
    return resp


def object_response(body: bytes, out: Output, status: int = 200, warnings: list[str] | None = None,
                    pretty: bool = False) -> Response:
    """`body` is the JSON form; YAML (and pretty JSON) are made from it only when asked."""
    if out.media == YAML:
        body = yaml.safe_dump(orjson.loads(body), sort_keys=False, allow_unicode=True).encode()
    elif pretty:
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2) + b"\n"
    return raw_response(body, out.media, status, warnings)


def dict_response(obj: dict, out: Output, status: int = 200, warnings: list[str] | None = None,
                  pretty: bool = False) -> Response:
    return object_response(orjson.dumps(obj), out, status, warnings, pretty)


def _status_json(status: dict) -> bytes:
    try:
        return orjson.dumps(status)
    except orjson.JSONEncodeError:
        # text that is not UTF-8 (a lone surrogate from a URL or body): escaped, the answer
        # still is a Status and not the server's bare 500 page
        return json.dumps(status).encode()


def status_response(err: StatusError) -> Response:
    resp = Response(_status_json(err.status()), status_code=err.code, media_type=JSON)
    if err.retry_after is not None:
        resp.headers["Retry-After"] = str(err.retry_after)
    for k, v in err.headers.items():
        resp.headers[k] = v
    return resp


def success_status(details: dict | None = None, code: int = 200) -> dict:
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        s["details"] = details
    return s
