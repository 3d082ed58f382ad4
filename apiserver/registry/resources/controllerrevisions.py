"""apps/v1 ControllerRevisions: a revision number (>= 0) and data that never
change; the table names the owning controller."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

_DEF = "io.k8s.api.apps.v1.ControllerRevision"


class ControllerRevisionStrategy(Strategy):
    serves = (("apps", "controllerrevisions"),)
    has_spec = False

    def validate(self, obj: dict) -> list[Cause]:
        causes = field.non_negative("revision", obj.get("revision"))
        if obj.get("revision") is None:
            causes.append(field.required("revision", ""))
        return causes

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return [] if new.get("data") == old.get("data") else [field.immutable("data", new.get("data"))]

    def columns(self) -> list[dict]:
        return [name_column(), col("Controller", "Controller of the object"),
                col("Revision", doc(_DEF, "revision"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        ref = next((r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None)
        owner = "<none>"
        if ref:
            group = (ref.get("apiVersion") or "").rpartition("/")[0]
            owner = f"{ref.get('kind', '').lower()}{'.' + group if group else ''}/{ref.get('name', '')}"
        return [name_of(obj), owner, int(obj.get("revision") or 0), age_of(obj, now)]
