"""ConfigMaps: a data holder (no spec); key and size rules, immutability."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field
from apiserver.registry.validation.data_maps import MAX_SIZE, validate_immutable_update, validate_keys


class ConfigMapStrategy(Strategy):
    serves = (("", "configmaps"),)
    has_spec = False

    def validate(self, obj: dict) -> list[Cause]:
        data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
        causes = validate_keys(data, "data") + validate_keys(binary, "binaryData")
        for k in binary:
            if k in data:
                causes.append(field.invalid(field.key("binaryData", k), k, "duplicate of key present in data"))
        size = sum(len(k) + len(str(v).encode()) for k, v in data.items())
        size += sum(len(k) + len(str(v)) * 3 // 4 for k, v in binary.items())
        if size > MAX_SIZE:
            causes.append(field.too_long("", MAX_SIZE))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_immutable_update(new, old, ("data", "binaryData"))

    def columns(self) -> list[dict]:
        return [name_column(), col("Data", doc(CORE + "ConfigMap", "data"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age_of(obj, now)]
