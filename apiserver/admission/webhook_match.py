"""Which webhooks of a (Mutating|Validating)WebhookConfiguration a write goes to:
rules (operations, groups, versions, resources, scope), namespaceSelector and
objectSelector, as upstream matches them. Pure."""
from __future__ import annotations

from apiserver.machinery.labels import SelectorError, from_label_selector_object
from apiserver.registry.attributes import Attributes


def _any(values, wanted: str) -> bool:
    return "*" in (values or []) or wanted in (values or [])


def _resource_matches(patterns, plural: str, sub: str) -> bool:
    for p in patterns or []:
        if p == "*/*":
            return True
        if "/" in p:
            res, _, s = p.partition("/")
            if (res in ("*", plural)) and (s in ("*", sub)) and sub:
                return True
        elif not sub and p in ("*", plural):
            return True
    return False


def rule_matches(rule: dict, attrs: Attributes) -> bool:
    r = attrs.resource
    if not _any(rule.get("operations"), attrs.operation):
        return False
    if not _any(rule.get("apiGroups"), r.group) or not _any(rule.get("apiVersions"), r.version):
        return False
    if not _resource_matches(rule.get("resources"), r.plural, attrs.subresource):
        return False
    scope = rule.get("scope") or "*"
    if scope == "Cluster" and r.namespaced:
        return False
    if scope == "Namespaced" and not r.namespaced:
        return False
    return True


def _selector_matches(selector: dict | None, labels: dict) -> bool:
    if selector is None or selector == {}:
        return True
    try:
        return from_label_selector_object(selector).matches(labels)
    except SelectorError:
        return False


def object_labels(attrs: Attributes) -> list[dict]:
    out = []
    for obj in (attrs.object, attrs.old_object):
        if isinstance(obj, dict):
            out.append((obj.get("metadata") or {}).get("labels") or {})
    return out or [{}]


def webhook_matches(webhook: dict, attrs: Attributes, namespace_labels: dict | None) -> bool:
    if not any(rule_matches(rule, attrs) for rule in webhook.get("rules") or []):
        return False
    if not any(_selector_matches(webhook.get("objectSelector"), labels) for labels in object_labels(attrs)):
        return False
    r = attrs.resource
    if r.group == "" and r.plural == "namespaces":
        return any(_selector_matches(webhook.get("namespaceSelector"), labels) for labels in object_labels(attrs))
    if r.namespaced and namespace_labels is not None:
        return _selector_matches(webhook.get("namespaceSelector"), namespace_labels)
    return True
