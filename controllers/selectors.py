"""Label selectors, as clients evaluate them on cached objects."""
from __future__ import annotations


def matches_labels(selector: dict | None, labels: dict | None) -> bool:
    """A map selector (RC, Service): every pair must match; an empty selector matches nothing
    here, because an RC or Service with no selector selects no pods."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def matches_requirement(expr: dict, labels: dict) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, IndexError, ValueError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def matches_label_selector(selector: dict | None, labels: dict | None) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); empty matches everything."""
    if selector is None:
        return False
    labels = labels or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(matches_requirement(e, labels) for e in selector.get("matchExpressions") or [])


def selector_string(selector: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
