"""Byte fields (`format: byte`: Secret data, ConfigMap binaryData, CSR request,
webhook caBundle...) decoded as kube-apiserver decodes them.

Upstream's JSON decoder reads a []byte field with Go's base64.StdEncoding:
standard alphabet, `=` padding required, and `\\r`/`\\n` anywhere are skipped
(so a value ending in a newline, as `base64` the command writes it, is
accepted). The object then holds bytes, and every answer re-encodes them: what
a client reads back is the canonical encoding. A value Go refuses fails the
decode itself: 400 `... cannot be handled as a Secret: illegal base64 data at
input byte N`, N counted as Go counts it.

Which fields are bytes comes from the upstream schema of the kind. Pure.
"""
from __future__ import annotations

import base64
import binascii
from functools import cache

from apiserver.machinery import errors, schemas

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = (0x0A, 0x0D)
MAP, LIST = "{}", "[]"          # path steps: every value of a map / every item of a list


class CorruptInput(ValueError):
    def __init__(self, offset: int):
        super().__init__(f"illegal base64 data at input byte {offset}")
        self.offset = offset


def decode_std(text: str) -> bytes:
    """Go's base64.StdEncoding.DecodeString; CorruptInput(offset) where Go fails."""
    src = text.encode("utf-8")     # Go counts offsets in bytes of the UTF-8 text
    clean = bytearray()
    j = 0           # position inside the current 4-character quantum
    si = 0
    n = len(src)
    while si < n:
        c = src[si]
        si += 1
        if c in _NEWLINES:
            continue
        if c in _ALPHABET:
            clean.append(c)
            j = (j + 1) % 4
            continue
        if c != 0x3D:   # not '='
            raise CorruptInput(si - 1)
        if j in (0, 1):
            raise CorruptInput(si - 1)
        if j == 2:      # "==" expected: the second '=' after any newlines
            while si < n and src[si] in _NEWLINES:
                si += 1
            if si == n:
                raise CorruptInput(n)
            if src[si] != 0x3D:
                raise CorruptInput(si - 1)
            si += 1
        while si < n and src[si] in _NEWLINES:
            si += 1
        if si < n:
            raise CorruptInput(si)
        clean.extend(b"=" * (4 - j))
        j = 0
        break
    if j:           # input ended inside a quantum: padding was required
        raise CorruptInput(si - j)
    return binascii.a2b_base64(bytes(clean)) if clean else b""


@cache
def byte_paths(group: str, version: str, kind: str) -> tuple[tuple[str, ...], ...]:
    """Paths of the kind's byte fields, e.g. (("data", MAP),) for a Secret."""
    top = schemas.for_kind(group, version, kind)
    if top is None:
        return ()
    found: list[tuple[str, ...]] = []

    def walk(schema: dict, path: tuple[str, ...], refs: frozenset[str]) -> None:
        name = schemas.ref_name(schema)
        if name in refs or len(path) > 24:
            return
        refs = refs | {name} if name else refs
        s = schemas.resolve(schema)
        if s.get("format") == "byte":
            found.append(path)
            return
        for key, sub in (s.get("properties") or {}).items():
            if isinstance(sub, dict):
                walk(sub, path + (key,), refs)
        extra = s.get("additionalProperties")
        if isinstance(extra, dict):
            walk(extra, path + (MAP,), refs)
        items = s.get("items")
        if isinstance(items, dict):
            walk(items, path + (LIST,), refs)

    walk(top, (), frozenset())
    return tuple(found)


def canonicalize(obj: dict, group: str, version: str, kind: str) -> None:
    """Decode every byte field of `obj` as upstream, storing the canonical encoding;
    400 BadRequest on a value Go's decoder refuses."""
    for path in byte_paths(group, version, kind):
        _visit(obj, path, group, version, kind)


def _visit(node, path: tuple[str, ...], group: str, version: str, kind: str) -> None:
    step, rest = path[0], path[1:]
    if step == MAP:
        slots = list(node.items()) if isinstance(node, dict) else []
    elif step == LIST:
        slots = list(enumerate(node)) if isinstance(node, list) else []
    else:
        slots = [(step, node[step])] if isinstance(node, dict) and step in node else []
    for key, value in slots:
        if rest:
            _visit(value, rest, group, version, kind)
        elif isinstance(value, str):
            try:
                node[key] = base64.b64encode(decode_std(value)).decode("ascii")
            except CorruptInput as e:
                api_version = f"{group}/{version}" if group else version
                raise errors.bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: '
                                         f"{e}") from None
