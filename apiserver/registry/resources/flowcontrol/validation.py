"""FlowSchema and PriorityLevelConfiguration validation, in upstream's words
(pkg/apis/flowcontrol/validation)."""
from __future__ import annotations

import math

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

DISTINGUISHER_METHODS = ("ByNamespace", "ByUser")
SUBJECT_KINDS = ("Group", "ServiceAccount", "User")
MAX_ENTROPY_BITS = 60


def _star_alone(path: str, values: list, what: str) -> list[Cause]:
    if "*" in values and len(values) > 1:
        return [field.invalid(path, values, f"if '*' is present, must not specify other {what}")]
    return []


def _list(v) -> list:
    return v if isinstance(v, list) else []


def _subject(path: str, s: dict) -> list[Cause]:
    kind = s.get("kind")
    if kind == "User":
        if not isinstance(s.get("user"), dict):
            return [field.required(field.child(path, "user"), "user is required when subject kind is 'User'")]
        return [] if s["user"].get("name") else [field.required(f"{path}.user.name", "username is required")]
    if kind == "Group":
        if not isinstance(s.get("group"), dict):
            return [field.required(field.child(path, "group"), "group is required when subject kind is 'Group'")]
        return [] if s["group"].get("name") else [field.required(f"{path}.group.name", "group name is required")]
    if kind == "ServiceAccount":
        sa = s.get("serviceAccount")
        if not isinstance(sa, dict):
            return [field.required(field.child(path, "serviceAccount"),
                                   "serviceAccount is required when subject kind is 'ServiceAccount'")]
        causes = [] if sa.get("name") else [field.required(f"{path}.serviceAccount.name",
                                                           "serviceaccount name is required")]
        if not sa.get("namespace"):
            causes.append(field.required(f"{path}.serviceAccount.namespace", "serviceaccount namespace is required"))
        return causes
    return [field.not_supported(field.child(path, "kind"), kind, SUBJECT_KINDS)]


def _resource_rule(path: str, r: dict) -> list[Cause]:
    causes: list[Cause] = []
    for key, what, required in (("verbs", "verbs", "verbs must contain at least one value"),
                                ("apiGroups", "api groups", "resource rules must supply at least one api group"),
                                ("resources", "resources", "resource rules must supply at least one resource")):
        values = _list(r.get(key))
        if not values:
            causes.append(field.required(field.child(path, key), required))
        causes += _star_alone(field.child(path, key), values, what)
    namespaces = _list(r.get("namespaces"))
    if not namespaces and not r.get("clusterScope"):
        causes.append(field.required(field.child(path, "namespaces"),
                                     "resource rules that are not cluster scoped must supply at least one namespace"))
    causes += _star_alone(field.child(path, "namespaces"), namespaces, "namespaces")
    for i, ns in enumerate(namespaces):
        if ns != "*":
            causes += field.each_invalid(field.index(field.child(path, "namespaces"), i), ns,
                                         names.is_dns1123_label(str(ns)))
    return causes


def _non_resource_rule(path: str, r: dict) -> list[Cause]:
    causes: list[Cause] = []
    verbs, urls = _list(r.get("verbs")), _list(r.get("nonResourceURLs"))
    if not verbs:
        causes.append(field.required(field.child(path, "verbs"), "verbs must contain at least one value"))
    causes += _star_alone(field.child(path, "verbs"), verbs, "verbs")
    if not urls:
        causes.append(field.required(field.child(path, "nonResourceURLs"),
                                     "nonResourceURLs must contain at least one value"))
    causes += _star_alone(field.child(path, "nonResourceURLs"), urls, "non-resource URLs")
    for i, url in enumerate(urls):
        if url != "*" and not str(url).startswith("/"):
            causes.append(field.invalid(field.index(field.child(path, "nonResourceURLs"), i), url,
                                        "must start with slash"))
    return causes


def validate_flow_schema(obj: dict) -> list[Cause]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    causes: list[Cause] = []
    prec = spec.get("matchingPrecedence")
    if isinstance(prec, int) and prec <= 0:
        causes.append(field.invalid("spec.matchingPrecedence", prec, "must be a positive value"))
    elif isinstance(prec, int) and prec > 10000:
        causes.append(field.invalid("spec.matchingPrecedence", prec, "must not be greater than 10000"))
    method = spec.get("distinguisherMethod")
    if isinstance(method, dict):
        causes += field.supported("spec.distinguisherMethod.type", method.get("type"), DISTINGUISHER_METHODS)
    level = (spec.get("priorityLevelConfiguration") or {}).get("name") or ""
    if not level:
        causes.append(field.required("spec.priorityLevelConfiguration.name", "must reference a priority level"))
    else:
        causes += field.each_invalid("spec.priorityLevelConfiguration.name", level,
                                     names.is_valid_path_segment_name(level))
    for i, rule in enumerate(_list(spec.get("rules"))):
        path = field.index("spec.rules", i)
        if not isinstance(rule, dict):
            continue
        subjects = _list(rule.get("subjects"))
        if not subjects:
            causes.append(field.required(field.child(path, "subjects"), "subjects must contain at least one value"))
        for j, s in enumerate(subjects):
            if isinstance(s, dict):
                causes += _subject(field.index(field.child(path, "subjects"), j), s)
        res, non_res = _list(rule.get("resourceRules")), _list(rule.get("nonResourceRules"))
        if not res and not non_res:
            causes.append(field.required(path, "at least one of resourceRules and nonResourceRules has to be "
                                               "non-empty"))
        for j, r in enumerate(res):
            if isinstance(r, dict):
                causes += _resource_rule(field.index(field.child(path, "resourceRules"), j), r)
        for j, r in enumerate(non_res):
            if isinstance(r, dict):
                causes += _non_resource_rule(field.index(field.child(path, "nonResourceRules"), j), r)
    return causes


def _shares_and_lending(path: str, cfg: dict) -> list[Cause]:
    causes: list[Cause] = []
    shares = cfg.get("nominalConcurrencyShares")
    if isinstance(shares, int) and shares < 0:
        causes.append(field.invalid(field.child(path, "nominalConcurrencyShares"), shares,
                                    "must be a non-negative integer"))
    lend = cfg.get("lendablePercent")
    if isinstance(lend, int) and not 0 <= lend <= 100:
        causes.append(field.invalid(field.child(path, "lendablePercent"), lend, "must be between 0 and 100, inclusive"))
    return causes


def _queuing(path: str, q: dict) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("queueLengthLimit", "queues", "handSize"):
        v = q.get(key)
        if isinstance(v, int) and v <= 0:
            causes.append(field.invalid(field.child(path, key), v, "must be positive"))
    queues, hand = q.get("queues"), q.get("handSize")
    if isinstance(queues, int) and isinstance(hand, int) and queues > 0 and hand > 0:
        if hand > queues:
            causes.append(field.invalid(field.child(path, "handSize"), hand,
                                        f"should not be greater than queues ({queues})"))
        elif _entropy_bits(queues, hand) > MAX_ENTROPY_BITS:
            causes.append(field.invalid(field.child(path, "handSize"), hand,
                                        f"required entropy bits of deckSize {queues} and handSize {hand} should not "
                                        f"be greater than {MAX_ENTROPY_BITS}"))
    return causes


def _entropy_bits(deck: int, hand: int) -> float:
    """The bits a shuffle-sharding draw of `hand` cards from `deck` needs."""
    return sum(math.log2(deck - i) for i in range(hand))


def validate_priority_level(obj: dict) -> list[Cause]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    name = (obj.get("metadata") or {}).get("name") or ""
    kind = spec.get("type")
    causes: list[Cause] = []
    if (name == "exempt") != (kind == "Exempt"):
        causes.append(field.invalid("spec.type", kind, "type must be 'Exempt' if and only if name is 'exempt'"))
    limited, exempt = spec.get("limited"), spec.get("exempt")
    if kind == "Exempt":
        if limited is not None:
            causes.append(field.forbidden("spec.limited", "must be nil if the type is not Limited"))
        if isinstance(exempt, dict):
            causes += _shares_and_lending("spec.exempt", exempt)
    elif kind == "Limited":
        if exempt is not None:
            causes.append(field.forbidden("spec.exempt", "must be nil if the type is Limited"))
        if not isinstance(limited, dict):
            causes.append(field.required("spec.limited", "must not be empty when type is Limited"))
        else:
            causes += _shares_and_lending("spec.limited", limited)
            borrow = limited.get("borrowingLimitPercent")
            if isinstance(borrow, int) and borrow < 0:
                causes.append(field.invalid("spec.limited.borrowingLimitPercent", borrow,
                                            "if specified, must be a non-negative integer"))
            response = limited.get("limitResponse") if isinstance(limited.get("limitResponse"), dict) else {}
            rtype, queuing = response.get("type"), response.get("queuing")
            if rtype == "Queue":
                if not isinstance(queuing, dict):
                    causes.append(field.required("spec.limited.limitResponse.queuing",
                                                 "must not be empty if type is Queue"))
                else:
                    causes += _queuing("spec.limited.limitResponse.queuing", queuing)
            elif rtype == "Reject":
                if queuing is not None:
                    causes.append(field.forbidden("spec.limited.limitResponse.queuing",
                                                  "must be nil if limited.limitResponse.type is not Limited"))
            else:
                causes.append(field.not_supported("spec.limited.limitResponse.type", rtype, ("Queue", "Reject")))
    else:
        causes.append(field.not_supported("spec.type", kind, ("Exempt", "Limited")))
    return causes
