"""ConfigMap and Secret rules: keys, sizes, secret types, immutability."""
from __future__ import annotations

from apiserver.machinery import bytefields, names
from apiserver.machinery.errors import Cause

from . import field

MAX_SIZE = 1024 * 1024  # both kinds: one etcd value must stay small
IMMUTABLE_DETAIL = "field is immutable when `immutable` is set"

# Secret type -> the data keys it must carry (any one of them for basic-auth).
_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _keys(data, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for k in data or {}:
        causes += field.each_invalid(field.key(path, k), k, names.is_config_map_key(k))
    return causes


def validate_configmap(cm: dict) -> list[Cause]:
    data, binary = cm.get("data") or {}, cm.get("binaryData") or {}
    causes = _keys(data, "data") + _keys(binary, "binaryData")
    for k in binary:
        if k in data:
            causes.append(field.invalid(field.key("binaryData", k), k, "duplicate of key present in data"))
    size = sum(len(k) + len(str(v).encode()) for k, v in data.items())
    size += sum(len(k) + len(str(v)) * 3 // 4 for k, v in binary.items())
    if size > MAX_SIZE:
        causes.append(field.too_long("", MAX_SIZE))
    return causes


def _decoded(value) -> bytes | None:
    """As Go's StdEncoding (newlines skipped); requests arrive canonical already
    (machinery.bytefields), this guards objects written by other paths."""
    if value is not None and not isinstance(value, str):
        return None
    try:
        return bytefields.decode_std(value or "")
    except ValueError:
        return None


def validate_secret(secret: dict) -> list[Cause]:
    data = secret.get("data") or {}
    causes = _keys(data, "data")
    size = 0
    for k, v in data.items():
        raw = _decoded(v)
        if raw is None:
            causes.append(field.invalid(field.key("data", k), "<secret contents redacted>",
                                        "illegal base64 data"))
            raw = b""
        size += len(raw)
    if size > MAX_SIZE:
        causes.append(field.too_long("data", MAX_SIZE))
    kind = secret.get("type") or "Opaque"
    meta = secret.get("metadata") or {}
    if kind == "kubernetes.io/service-account-token":
        if not (meta.get("annotations") or {}).get("kubernetes.io/service-account.name"):
            causes.append(field.required("metadata.annotations[kubernetes.io/service-account.name]", ""))
    elif kind in _REQUIRED_KEYS:
        for key in _REQUIRED_KEYS[kind]:
            if key not in data:
                causes.append(field.required(field.key("data", key), ""))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            causes.append(field.required("data[username]", ""))
    elif kind == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                causes.append(field.required(field.key("data", key), ""))
    elif kind != "Opaque":
        causes += field.each_invalid("type", kind, names.is_qualified_name(kind))
    return causes


def validate_immutable_update(new: dict, old: dict, data_keys: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes: list[Cause] = []
    if new.get("immutable") is not True:
        causes.append(field.forbidden("immutable", IMMUTABLE_DETAIL))
    for key in data_keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            causes.append(field.forbidden(key, IMMUTABLE_DETAIL))
    return causes


def validate_secret_update(new: dict, old: dict) -> list[Cause]:
    causes: list[Cause] = []
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        causes.append(field.immutable("type", new.get("type")))
    return causes + validate_immutable_update(new, old, ("data",))
