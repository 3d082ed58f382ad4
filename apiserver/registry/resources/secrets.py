"""Secrets: a data holder (no spec); stringData folded into data, base64 and
per-type key rules, immutability; selectable by type."""
from __future__ import annotations

import base64
from datetime import datetime

from apiserver.machinery import bytefields, names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.data_maps import MAX_SIZE, validate_immutable_update, validate_keys

# Secret type -> the data keys it must carry (any one of them for basic-auth).
_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


class SecretStrategy(Strategy):
    serves = (("", "secrets"),)
    has_spec = False
    selectable_fields = ("type",)

    def defaults(self, obj: dict) -> None:
        default_secret(obj)

    def validate(self, obj: dict) -> list[Cause]:
        return validate_secret(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        causes: list[Cause] = []
        if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
            causes.append(field.immutable("type", new.get("type")))
        return causes + validate_immutable_update(new, old, ("data",))

    def columns(self) -> list[dict]:
        return [name_column(), col("Type", doc(CORE + "Secret", "type")),
                col("Data", doc(CORE + "Secret", "data"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), obj.get("type", ""), len(obj.get("data") or {}), age_of(obj, now)]


def default_secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    # stringData is write-only: upstream's v1 -> internal conversion folds it into data
    # (base64, overwriting same-named keys) and never stores or returns it.
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
        if data:
            obj["data"] = data


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
    causes = validate_keys(data, "data")
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
