"""The short hashes controllers put in names and labels, in upstream's format.

Upstream hashes with 32-bit FNV and writes the number's decimal digits through
a vowel-free alphabet (so a hash never spells a word): 1 to 10 characters of
"bcdfghjklmnpqrstvwxz2456789", e.g. "5d59d67564". A Deployment's
pod-template-hash is FNV-1a of the template plus the collisionCount as four
little-endian bytes (padded to eight), when the status has one; a
ControllerRevision's hash is FNV-1 of its data plus the collisionCount's decimal
digits. The template is hashed as canonical JSON (upstream hashes its Go
struct dump, which no other implementation can reproduce byte for byte).
"""
from __future__ import annotations

import json

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_OFFSET, _PRIME, _MASK = 0x811C9DC5, 0x01000193, 0xFFFFFFFF
MAX_REVISION_PREFIX = 223  # a revision name is <owner>-<hash>, the owner's name cut to this


def fnv32(data: bytes) -> int:
    h = _OFFSET
    for b in data:
        h = ((h * _PRIME) & _MASK) ^ b
    return h


def fnv32a(data: bytes) -> int:
    h = _OFFSET
    for b in data:
        h = ((h ^ b) * _PRIME) & _MASK
    return h


def safe_encode(s: str) -> str:
    """Each character mapped into the vowel-free alphabet (upstream's rand.SafeEncodeString)."""
    return "".join(_ALPHANUMS[ord(ch) % len(_ALPHANUMS)] for ch in s)


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def pod_template_hash(template: dict, collision_count: int | None = None) -> str:
    data = canonical(template)
    if collision_count is not None:
        data += (int(collision_count) & _MASK).to_bytes(4, "little") + b"\0\0\0\0"
    return safe_encode(str(fnv32a(data)))


def revision_hash(data: dict, collision_count: int | None = None) -> str:
    raw = canonical(data)
    if collision_count is not None:
        raw += str(int(collision_count)).encode()
    return safe_encode(str(fnv32(raw)))


def revision_name(owner_name: str, hash_: str) -> str:
    return f"{owner_name[:MAX_REVISION_PREFIX]}-{hash_}"
