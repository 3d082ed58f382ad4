"""An audit.k8s.io/v1 Policy, and the level and stages it gives a request.

The first rule that matches a request decides its level (None, Metadata, Request,
RequestResponse); a request no rule matches is not audited. Stages left out by
the policy's or the rule's `omitStages` are not written. Rule semantics follow
upstream's policy checker: users, userGroups and verbs narrow a rule; a rule
naming resources or namespaces matches only resource requests, one naming
nonResourceURLs only the others ("/apis*" is a prefix); `resources` entries use
"*" (everything), "pods/*" (every pods subresource), "*/scale" (every scale).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class GroupResources:
    group: str = ""
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    level: str
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool | None = None


@dataclass(frozen=True)
class Decision:
    level: str
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool = False

    @property
    def audited(self) -> bool:
        return self.level != "None"

    def at_least(self, level: str) -> bool:
        return LEVELS.index(self.level) >= LEVELS.index(level)


NOT_AUDITED = Decision("None")


@dataclass(frozen=True)
class Request:
    """What the policy looks at (the authorizer's attributes)."""
    user: str
    groups: tuple[str, ...]
    verb: str
    is_resource_request: bool
    path: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    omit_stages: frozenset[str] = field(default_factory=frozenset)
    omit_managed_fields: bool = False

    def decide(self, req: Request) -> Decision:
        for rule in self.rules:
            if _matches(rule, req):
                if rule.level == "None":
                    return NOT_AUDITED
                omit_mf = self.omit_managed_fields if rule.omit_managed_fields is None else rule.omit_managed_fields
                return Decision(rule.level, self.omit_stages | rule.omit_stages, omit_mf)
        return NOT_AUDITED


def _matches(rule: Rule, req: Request) -> bool:
    if rule.users and req.user not in rule.users:
        return False
    if rule.user_groups and not any(g in rule.user_groups for g in req.groups):
        return False
    if rule.verbs and req.verb not in rule.verbs:
        return False
    if rule.namespaces or rule.resources:
        return _matches_resource(rule, req)
    if rule.non_resource_urls:
        return not req.is_resource_request and any(_url_matches(u, req.path) for u in rule.non_resource_urls)
    return True


def _url_matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def _matches_resource(rule: Rule, req: Request) -> bool:
    if not req.is_resource_request:
        return False
    if rule.namespaces and req.namespace not in rule.namespaces:
        return False
    if not rule.resources:
        return True
    combined = f"{req.resource}/{req.subresource}" if req.subresource else req.resource
    for gr in rule.resources:
        if gr.group != req.group:
            continue
        if not gr.resources:
            return True
        if gr.resource_names and req.name not in gr.resource_names:
            continue
        for res in gr.resources:
            if res in ("*", combined):
                return True
            if res.startswith("*/") and req.subresource == res[2:]:
                return True
            if res.endswith("/*") and req.subresource and req.resource == res[:-2]:
                return True
    return False


def parse(text: str) -> Policy:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PolicyError(f"not YAML: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "Policy" or doc.get("apiVersion") not in (
            "audit.k8s.io/v1", "audit.k8s.io/v1beta1"):
        raise PolicyError("the file must hold one Policy of apiVersion audit.k8s.io/v1")
    rules = doc.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("rules: Required value: a policy needs at least one rule")
    return Policy(tuple(_rule(r, f"rules[{i}]") for i, r in enumerate(rules)),
                  _stages(doc.get("omitStages"), "omitStages"), bool(doc.get("omitManagedFields", False)))


def _strings(value, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{path}: must be a list of strings")
    return tuple(value)


def _stages(value, path: str) -> frozenset[str]:
    stages = _strings(value, path)
    for i, s in enumerate(stages):
        if s not in STAGES:
            raise PolicyError(f'{path}[{i}]: Unsupported value: "{s}": supported values: '
                              + ", ".join(f'"{x}"' for x in STAGES))
    return frozenset(stages)


def _rule(r, path: str) -> Rule:
    if not isinstance(r, dict):
        raise PolicyError(f"{path}: must be an object")
    level = r.get("level")
    if level not in LEVELS:
        raise PolicyError(f'{path}.level: Unsupported value: "{level}": supported values: '
                          + ", ".join(f'"{x}"' for x in LEVELS))
    resources = r.get("resources") or []
    if not isinstance(resources, list):
        raise PolicyError(f"{path}.resources: must be a list")
    grs = []
    for j, gr in enumerate(resources):
        if not isinstance(gr, dict):
            raise PolicyError(f"{path}.resources[{j}]: must be an object")
        grs.append(GroupResources(str(gr.get("group", "")), _strings(gr.get("resources"), f"{path}.resources[{j}].resources"),
                                  _strings(gr.get("resourceNames"), f"{path}.resources[{j}].resourceNames")))
    urls = _strings(r.get("nonResourceURLs"), f"{path}.nonResourceURLs")
    if urls and (grs or r.get("namespaces")):
        raise PolicyError(f"{path}.nonResourceURLs: Invalid value: rules cannot apply to both regular "
                          "resources and non-resource URLs")
    omf = r.get("omitManagedFields")
    return Rule(level=level, users=_strings(r.get("users"), f"{path}.users"),
                user_groups=_strings(r.get("userGroups"), f"{path}.userGroups"),
                verbs=_strings(r.get("verbs"), f"{path}.verbs"), resources=tuple(grs),
                namespaces=_strings(r.get("namespaces"), f"{path}.namespaces"), non_resource_urls=urls,
                omit_stages=_stages(r.get("omitStages"), f"{path}.omitStages"),
                omit_managed_fields=None if omf is None else bool(omf))
