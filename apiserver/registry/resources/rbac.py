"""RBAC (rbac.authorization.k8s.io): names are path segments (system:basic-user);
a binding's roleRef never changes; bindings print their role and subjects."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy

_GROUP = "rbac.authorization.k8s.io"


class RoleStrategy(Strategy):
    serves = ((_GROUP, "roles"), (_GROUP, "clusterroles"))

    def name_errors(self, name: str) -> list[str]:
        return names.is_valid_path_segment_name(name)


class RoleBindingStrategy(RoleStrategy):
    serves = ((_GROUP, "rolebindings"), (_GROUP, "clusterrolebindings"))

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        if new.get("roleRef") == old.get("roleRef"):
            return []
        return [Cause("FieldValueInvalid", f"Invalid value: {new.get('roleRef')!r}: cannot change roleRef", "roleRef")]

    def columns(self) -> list[dict]:
        return [name_column(), col("Role", "Role is the name of the role bound"), age_column(),
                col("Users", "Users in the binding", priority=1), col("Groups", "Groups in the binding", priority=1),
                col("ServiceAccounts", "ServiceAccounts in the binding", priority=1)]

    def cells(self, obj: dict, now: datetime) -> list:
        ref = obj.get("roleRef") or {}
        return [name_of(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age_of(obj, now),
                _subjects(obj, "User"), _subjects(obj, "Group"), _subjects(obj, "ServiceAccount")]


def _subjects(binding: dict, kind: str) -> str:
    out = []
    for s in binding.get("subjects") or []:
        if s.get("kind") == kind:
            out.append(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                       else s.get("name", ""))
    return ", ".join(out)
