"""Whether a FlowSchema's rules match a request (upstream's matching.go, in its
words): a rule matches when one of its subjects is the requester and one of its
resource rules (resource requests) or non-resource rules (other paths) covers
what is asked. Pure: a request is (UserInfo, RequestInfo)."""
from __future__ import annotations

from apiserver.http.requestinfo import RequestInfo
from apiserver.machinery.user import UserInfo

SA_PREFIX = "system:serviceaccount:"


def _has(values, value: str) -> bool:
    return "*" in values or value in values


def subject_matches(subject: dict, user: UserInfo) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        name = (subject.get("user") or {}).get("name")
        return name == "*" or name == user.name
    if kind == "Group":
        name = (subject.get("group") or {}).get("name")
        return name == "*" or name in user.groups
    if kind == "ServiceAccount":
        sa = subject.get("serviceAccount") or {}
        namespace, name = sa.get("namespace"), sa.get("name")
        if name == "*":
            return user.name.startswith(f"{SA_PREFIX}{namespace}:")
        return user.name == f"{SA_PREFIX}{namespace}:{name}"
    return False


def resource_rule_matches(rule: dict, info: RequestInfo) -> bool:
    if not _has(rule.get("verbs") or (), info.verb) or not _has(rule.get("apiGroups") or (), info.group):
        return False
    resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    if not _has(rule.get("resources") or (), resource):
        return False
    if not info.namespace:
        return bool(rule.get("clusterScope"))
    return _has(rule.get("namespaces") or (), info.namespace)


def non_resource_rule_matches(rule: dict, info: RequestInfo) -> bool:
    if not _has(rule.get("verbs") or (), info.verb):
        return False
    path = info.path
    for url in rule.get("nonResourceURLs") or ():
        if url == "*" or url == path:
            return True
        # "/healthz/*" covers every path under /healthz/ (not /healthz itself)
        if url.endswith("/*") and path.startswith(url[:-1]):
            return True
    return False


def rule_matches(rule: dict, user: UserInfo, info: RequestInfo) -> bool:
    if not any(subject_matches(s, user) for s in rule.get("subjects") or ()):
        return False
    if info.is_resource_request:
        return any(resource_rule_matches(r, info) for r in rule.get("resourceRules") or ())
    return any(non_resource_rule_matches(r, info) for r in rule.get("nonResourceRules") or ())


def schema_matches(spec: dict, user: UserInfo, info: RequestInfo) -> bool:
    return any(rule_matches(r, user, info) for r in spec.get("rules") or ())


def flow_distinguisher(spec: dict, user: UserInfo, info: RequestInfo) -> str:
    """ByUser: the user's name; ByNamespace: the request's namespace ("" when cluster
    scoped); no method: one flow for every request of the schema."""
    method = (spec.get("distinguisherMethod") or {}).get("type")
    if method == "ByUser":
        return user.name
    if method == "ByNamespace":
        return info.namespace
    return ""
