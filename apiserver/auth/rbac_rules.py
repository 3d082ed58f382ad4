"""RBAC's matching rules (pure): does a PolicyRule cover a request, does a binding's
subject name a user. rbac.py reads the roles and bindings; this decides.

A request's attributes have the fields of http.requestinfo.RequestInfo (or
reviews.AccessAttributes): is_resource_request, verb, group, resource,
subresource, name, namespace, path.
"""
from __future__ import annotations

from apiserver.machinery.user import UserInfo

from .serviceaccounts import service_account_username

ALL = "*"


def _has(values, wanted: str) -> bool:
    values = values or ()
    return ALL in values or wanted in values


def resource_matches(rule_resources, resource: str, subresource: str) -> bool:
    """`*` is everything; `pods/log` a subresource; `*/scale` that subresource of anything."""
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule_resources or ():
        if r == ALL or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def non_resource_url_matches(urls, path: str) -> bool:
    """An exact path, `*`, or a prefix ending in `*` (`/healthz/*`)."""
    for u in urls or ():
        if u == ALL or u == path:
            return True
        if u.endswith("*") and path.startswith(u[:-1]):
            return True
    return False


def rule_allows(rule: dict, attrs) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.is_resource_request:
        return non_resource_url_matches(rule.get("nonResourceURLs"), attrs.path)
    if not rule.get("resources"):
        return False
    if not _has(rule.get("apiGroups"), attrs.group):
        return False
    if not resource_matches(rule.get("resources"), attrs.resource, attrs.subresource):
        return False
    names = rule.get("resourceNames") or ()
    return not names or attrs.name in names


def subject_matches(subject: dict, user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        # A RoleBinding's service account without a namespace lives in the binding's namespace.
        ns = subject.get("namespace") or binding_namespace
        return bool(ns) and user.name == service_account_username(ns, name)
    return False


def describe_subject(subject: dict, binding_namespace: str) -> str:
    kind, name = subject.get("kind", ""), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'ServiceAccount "{subject.get("namespace") or binding_namespace}/{name}"'
    return f'{kind} "{name}"'


def matching_subject(binding: dict, user: UserInfo) -> dict | None:
    ns = (binding.get("metadata") or {}).get("namespace", "")
    for s in binding.get("subjects") or ():
        if isinstance(s, dict) and subject_matches(s, user, ns):
            return s
    return None


def rule_infos(rules: list[dict]) -> tuple[list[dict], list[dict]]:
    """Split a role's rules the way SelfSubjectRulesReview reports them: (resourceRules, nonResourceRules)."""
    res, nonres = [], []
    for r in rules:
        if r.get("nonResourceURLs"):
            nonres.append({"verbs": list(r.get("verbs") or ()), "nonResourceURLs": list(r["nonResourceURLs"])})
        if r.get("resources"):
            out = {"verbs": list(r.get("verbs") or ()), "apiGroups": list(r.get("apiGroups") or ()),
                   "resources": list(r["resources"])}
            if r.get("resourceNames"):
                out["resourceNames"] = list(r["resourceNames"])
            res.append(out)
    return res, nonres
