"""CustomResourceDefinition rules, worded as apiextensions-apiserver's validation."""
from __future__ import annotations

from apiserver.machinery import names as name_rules
from apiserver.machinery.errors import Cause
from apiserver.registry.customresources import cel
from apiserver.registry.validation import field

_SCOPES = ("Cluster", "Namespaced")
_CONVERSIONS = ("None", "Webhook")


def name_matches(crd: dict) -> list[Cause]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    want = f"{names.get('plural', '')}.{spec.get('group', '')}"
    name = (crd.get("metadata") or {}).get("name", "")
    if name != want:
        return [field.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []


def _label(path: str, value, rule=name_rules.is_dns1035_label) -> list[Cause]:
    if not value:
        return [field.required(path)]
    return [field.invalid(path, value, msg) for msg in rule(value)]


def validate_names(names: dict, path: str) -> list[Cause]:
    out = _label(field.child(path, "plural"), names.get("plural"))
    if names.get("singular"):
        out += _label(field.child(path, "singular"), names["singular"])
    for i, short in enumerate(names.get("shortNames") or ()):
        out += _label(field.index(field.child(path, "shortNames"), i), short)
    for i, cat in enumerate(names.get("categories") or ()):
        out += _label(field.index(field.child(path, "categories"), i), cat)
    kind = names.get("kind")
    if not kind:
        out.append(field.required(field.child(path, "kind")))
    else:
        out += [field.invalid(field.child(path, "kind"), kind, m) for m in name_rules.is_dns1035_label(kind.lower())]
    list_kind = names.get("listKind")
    if list_kind:
        out += [field.invalid(field.child(path, "listKind"), list_kind, m)
                for m in name_rules.is_dns1035_label(list_kind.lower())]
        if list_kind == kind:
            out.append(field.invalid(field.child(path, "listKind"), list_kind, "kind and listKind may not be the same"))
    return out


def _structural(s, path: str, out: list[Cause], root: bool = False) -> None:
    """The parts of upstream's structural-schema rules that change what is served:
    every specified field has a type (or says it is int-or-string / free-form)."""
    if not isinstance(s, dict):
        return
    free = s.get("x-kubernetes-int-or-string") or s.get("x-kubernetes-preserve-unknown-fields")
    t = s.get("type")
    if root and t != "object":
        if not t:
            out.append(field.required(field.child(path, "type"), "must not be empty at the root"))
        else:
            out.append(field.not_supported(field.child(path, "type"), t, ["object"]))
    elif not t and not free and not root:
        out.append(field.required(field.child(path, "type"), "must not be empty for specified object fields"
                                  if "properties" in s else "must not be empty for specified array items"
                                  if path.endswith(".items") else "must not be empty for specified fields"))
    for name, sub in (s.get("properties") or {}).items():
        _structural(sub, f"{path}.properties[{name}]", out)
    if isinstance(s.get("items"), dict):
        _structural(s["items"], field.child(path, "items"), out)
    if isinstance(s.get("additionalProperties"), dict):
        _structural(s["additionalProperties"], field.child(path, "additionalProperties"), out)


def validate_versions(versions, path: str) -> list[Cause]:
    if not isinstance(versions, list) or not versions:
        return [field.invalid(path, versions or [], "must have exactly one version marked as storage version")]
    out: list[Cause] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        vp = field.index(path, i)
        vname = v.get("name")
        out += _label(field.child(vp, "name"), vname)
        if vname in seen:
            out.append(field.invalid(field.child(vp, "name"), vname, "must be unique"))
        seen.add(vname)
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        sp = field.child(field.child(vp, "schema"), "openAPIV3Schema")
        if not isinstance(schema, dict) or not schema:
            out.append(field.required(sp, "schemas are required"))
        else:
            _structural(schema, sp, out, root=True)
            for rule_path, rule in cel.rules_in(schema, sp):
                why = cel.compile_error(rule) if rule else "rule must not be empty"
                if why:
                    out.append(field.invalid(rule_path, rule, f"compilation failed: {why}"))
    if sum(1 for v in versions if v.get("storage")) != 1:
        out.append(field.invalid(path, versions, "must have exactly one version marked as storage version"))
    if not any(v.get("served") for v in versions):
        out.append(field.invalid(path, versions, "must have at least one version served"))
    return out


def validate_crd(crd: dict) -> list[Cause]:
    spec = crd.get("spec") or {}
    out = name_matches(crd)
    group = spec.get("group")
    if not group:
        out.append(field.required("spec.group"))
    else:
        out += [field.invalid("spec.group", group, m) for m in name_rules.is_dns1123_subdomain(group)]
        if "." not in group:
            out.append(field.invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        out.append(field.required("spec.scope"))
    elif scope not in _SCOPES:
        out.append(field.not_supported("spec.scope", scope, _SCOPES))
    out += validate_names(spec.get("names") or {}, "spec.names")
    out += validate_versions(spec.get("versions"), "spec.versions")
    strategy = (spec.get("conversion") or {}).get("strategy")
    if strategy not in _CONVERSIONS:
        out.append(field.not_supported("spec.conversion.strategy", strategy, _CONVERSIONS))
    return out


def validate_crd_update(new: dict, old: dict) -> list[Cause]:
    out = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    if ns.get("group") != os_.get("group"):
        out.append(field.invalid("spec.group", ns.get("group"), "field is immutable"))
    if ns.get("scope") != os_.get("scope"):
        out.append(field.invalid("spec.scope", ns.get("scope"), "field is immutable"))
    if (ns.get("names") or {}).get("plural") != (os_.get("names") or {}).get("plural"):
        out.append(field.invalid("spec.names.plural", (ns.get("names") or {}).get("plural"), "field is immutable"))
    return out
