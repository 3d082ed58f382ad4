"""Validation of every write, worded like kube-apiserver's 422s.

`validate_create(resource, obj)` and `validate_update(resource, new, old)` return
Causes (field path, upstream CauseType, upstream message); the registry raises
`errors.invalid(...)` with them. Three layers, in this order: ObjectMeta rules,
the kind's own rules, then the upstream schema (types, required fields, enums)
for whatever the hand-written rules did not already report.
"""
from __future__ import annotations

import copy
from typing import Callable

from openapi.catalogue import Resource

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import config, meta, others, pods, schema, services

Rule = Callable[[dict], list[Cause]]
UpdateRule = Callable[[dict, dict], list[Cause]]

# Kinds whose names have a narrower rule than a DNS subdomain.
_NAME_RULES: dict[tuple[str, str], Callable[[str], list[str]]] = {
    ("", "Namespace"): names.is_dns1123_label,
    ("", "Service"): names.is_dns1035_label,
    # RBAC names are path segments (system:basic-user); added by the auth APIs engineer.
    **{("rbac.authorization.k8s.io", k): names.is_valid_path_segment_name
       for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")},
}

_CREATE_RULES: dict[tuple[str, str], Rule] = {
    ("", "Pod"): lambda o: pods.validate_pod_spec(o.get("spec"), "spec"),
    ("", "PodTemplate"): others.validate_podtemplate,
    ("", "ReplicationController"): others.validate_rc,
    ("", "Service"): services.validate_service,
    ("", "ConfigMap"): config.validate_configmap,
    ("", "Secret"): config.validate_secret,
    ("", "Namespace"): others.validate_namespace,
    ("", "Node"): others.validate_node,
    ("", "Event"): others.validate_core_event,
    ("events.k8s.io", "Event"): others.validate_events_event,
    ("", "Endpoints"): others.validate_endpoints,
    ("discovery.k8s.io", "EndpointSlice"): others.validate_endpointslice,
    ("", "LimitRange"): others.validate_limitrange,
    ("", "ResourceQuota"): others.validate_resourcequota,
    ("coordination.k8s.io", "Lease"): others.validate_lease,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): others.validate_webhooks,
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): others.validate_webhooks,
}

_UPDATE_RULES: dict[tuple[str, str], UpdateRule] = {
    **{("rbac.authorization.k8s.io", k): lambda new, old: (
        [] if new.get("roleRef") == old.get("roleRef")
        else [Cause("FieldValueInvalid", f"Invalid value: {new.get('roleRef')!r}: cannot change roleRef", "roleRef")])
       for k in ("RoleBinding", "ClusterRoleBinding")},
    ("", "Pod"): pods.validate_pod_update,
    ("", "Service"): services.validate_service_update,
    ("", "ConfigMap"): lambda new, old: config.validate_immutable_update(new, old, ("data", "binaryData")),
    ("", "Secret"): config.validate_secret_update,
    ("discovery.k8s.io", "EndpointSlice"): lambda new, old: (
        [] if new.get("addressType") == old.get("addressType")
        else [meta.field.immutable("addressType", new.get("addressType"))]),
}


def _key(resource: Resource) -> tuple[str, str]:
    return (resource.group, resource.kind)


def _merge(*groups: list[Cause]) -> list[Cause]:
    """Concatenate, dropping a cause for a field+reason an earlier group already reported."""
    seen: set[tuple[str, str]] = set()
    out: list[Cause] = []
    for group in groups:
        out.extend(c for c in group if (c.field, c.reason) not in seen)
        seen.update((c.field, c.reason) for c in group)
    return out


def _name_rule(resource: Resource):
    if not resource.stored:
        return None  # reviews and bindings are never stored under their own name
    return _NAME_RULES.get(_key(resource), names.is_dns1123_subdomain)


def validate_create(resource: Resource, obj: dict) -> list[Cause]:
    if not isinstance(obj, dict):
        return [meta.field.type_invalid("", "object", "must be an object")]
    meta_causes = []
    if resource.stored:
        meta_causes = meta.validate_object_meta(obj.get("metadata") or {}, resource.namespaced, _name_rule(resource))
    rule = _CREATE_RULES.get(_key(resource))
    kind_causes = rule(obj) if rule else []
    return _merge(meta_causes, kind_causes, schema.validate(resource.schema, obj))


def validate_update(resource: Resource, new: dict, old: dict) -> list[Cause]:
    if not isinstance(new, dict):
        return [meta.field.type_invalid("", "object", "must be an object")]
    old = old if isinstance(old, dict) else {}
    if _key(resource) == ("", "Service"):
        # Judge the service as it will be stored: unchanged type-dependent
        # fields go with a type change (the allocators drop them for real).
        from apiserver.registry.allocators.type_change import drop_type_dependent_fields
        new = copy.deepcopy(new)
        drop_type_dependent_fields(new, old)
    meta_causes = meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    rule = _CREATE_RULES.get(_key(resource))
    kind_causes = rule(new) if rule else []
    update_rule = _UPDATE_RULES.get(_key(resource))
    update_causes = update_rule(new, old) if update_rule else []
    return _merge(meta_causes, update_causes, kind_causes, schema.validate(resource.schema, new))


__all__ = ["validate_create", "validate_update"]
