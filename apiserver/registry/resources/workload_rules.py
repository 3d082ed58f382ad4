"""Rules the workload kinds share (Deployments, ReplicaSets, StatefulSets,
DaemonSets, Jobs, CronJobs, PodDisruptionBudgets): metav1.LabelSelector
validation, "selector must match the template", IntOrString percentages, the
immutable selector, and the selector as kubectl prints it. Upstream wording."""
from __future__ import annotations

import re

from apiserver.machinery.errors import Cause
from apiserver.machinery.labels import SelectorError, from_label_selector_object
from apiserver.registry.validation import field, meta
from apiserver.registry.validation.podspec import validate_pod_template

_PERCENT = re.compile(r"^[0-9]+%$")


def label_selector(sel, path: str) -> list[Cause]:
    if sel is None:
        return []
    if not isinstance(sel, dict):
        return [field.invalid(path, sel, "must be an object")]
    causes = meta.validate_labels(sel.get("matchLabels") or {}, field.child(path, "matchLabels"))
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        p = field.index(field.child(path, "matchExpressions"), i)
        if not isinstance(expr, dict):
            continue
        op, values = expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                causes.append(field.required(field.child(p, "values"),
                                             "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                causes.append(field.forbidden(field.child(p, "values"),
                                              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            causes.append(field.invalid(field.child(p, "operator"), op, "not a valid selector operator"))
        if not expr.get("key"):
            causes.append(field.required(field.child(p, "key"), ""))
    return causes


def selects(sel: dict | None, labels: dict | None) -> bool:
    try:
        return from_label_selector_object(sel).matches(labels or {})
    except SelectorError:
        return False


def selector_string(sel: dict | None) -> str:
    """The selector as kubectl shows it (app=web,tier in (a,b)); <none> when it selects everything."""
    if sel is None:
        return "<none>"
    try:
        text = str(from_label_selector_object(sel))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def selector_and_template(spec: dict, kind: str, restart_policies: tuple[str, ...] = ("Always",),
                          path: str = "spec") -> list[Cause]:
    """spec.selector required, non-empty, valid and matching spec.template's labels;
    the template's pod rules and restart policy."""
    causes: list[Cause] = []
    sel = spec.get("selector")
    sel_path, tpl_path = field.child(path, "selector"), field.child(path, "template")
    if sel is None:
        causes.append(field.required(sel_path, ""))
    elif isinstance(sel, dict) and not sel.get("matchLabels") and not sel.get("matchExpressions"):
        causes.append(field.invalid(sel_path, sel, f"empty selector is invalid for {kind}"))
    else:
        causes += label_selector(sel, sel_path)
    template = spec.get("template")
    if template is None:
        causes.append(field.required(tpl_path, ""))
        return causes
    labels = ((template or {}).get("metadata") or {}).get("labels") or {}
    if isinstance(sel, dict) and (sel.get("matchLabels") or sel.get("matchExpressions")) and not selects(sel, labels):
        causes.append(field.invalid(field.child(field.child(tpl_path, "metadata"), "labels"), labels,
                                    "`selector` does not match template `labels`"))
    causes += validate_pod_template(template, tpl_path, None)
    policy = ((template or {}).get("spec") or {}).get("restartPolicy")
    if policy and policy not in restart_policies:
        causes.append(field.not_supported(field.child(field.child(tpl_path, "spec"), "restartPolicy"), policy,
                                          list(restart_policies)))
    return causes


def int_or_percent(value, path: str) -> tuple[list[Cause], int | None]:
    """(causes, the percent or number) for a non-negative IntOrString."""
    if value is None:
        return [], None
    if isinstance(value, str):
        if not _PERCENT.match(value):
            return [field.invalid(path, value, "a valid percent string must be a numeric string followed by an "
                                  "ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")], None
        pct = int(value[:-1])
        if pct > 100:
            return [field.invalid(path, value, "must not be greater than 100%")], pct
        return [], pct
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            return [field.invalid(path, value, "must be greater than or equal to 0")], value
        return [], value
    return [], None


def immutable_selector(new: dict, old: dict, path: str = "spec.selector") -> list[Cause]:
    a, b = (new.get("spec") or {}).get("selector"), (old.get("spec") or {}).get("selector")
    return [] if a == b else [field.immutable(path, a)]


def non_negative(spec: dict, *keys: str, path: str = "spec") -> list[Cause]:
    out: list[Cause] = []
    for k in keys:
        out += field.non_negative(field.child(path, k), spec.get(k))
    return out


def default(obj: dict, key: str, value) -> None:
    """Set a defaulted field that is absent or null (a null pointer defaults upstream too)."""
    if obj.get(key) is None:
        obj[key] = value
