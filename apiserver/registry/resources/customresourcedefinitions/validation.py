"""CustomResourceDefinition rules, worded as apiextensions-apiserver's validation.

The schema of each version is checked by schema_rules.py (structural, defaults,
OpenAPI subset, list types, CEL); this file holds the rest of the spec: names,
versions, subresources, printer columns, selectable fields, conversion, and what
an update may not change.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from apiserver.machinery import names as name_rules
from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

from . import schema_rules

_SCOPES = ["Cluster", "Namespaced"]
_CONVERSIONS = ["None", "Webhook"]
_REVIEW_VERSIONS = ("v1", "v1beta1")
_COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"]
_COLUMN_FORMATS = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]
MAX_SELECTABLE_FIELDS = 8


def name_matches(crd: dict) -> list[Cause]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    want = f"{names.get('plural', '')}.{spec.get('group', '')}"
    name = (crd.get("metadata") or {}).get("name", "")
    if name != want:
        return [field.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []


def _label(path: str, value) -> list[Cause]:
    if not value:
        return []
    return [field.invalid(path, value, ",".join(name_rules.is_dns1035_label(value)))] \
        if name_rules.is_dns1035_label(value) else []


def validate_names(names: dict, path: str, required: bool = True) -> list[Cause]:
    out: list[Cause] = []
    if required:
        for key in ("plural", "singular", "kind", "listKind"):
            if not names.get(key):
                out.append(field.required(f"{path}.{key}"))
    out += _label(f"{path}.plural", names.get("plural"))
    out += _label(f"{path}.singular", names.get("singular"))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if value and name_rules.is_dns1035_label(value.lower()):
            out.append(field.invalid(f"{path}.{key}", value, "may have mixed case, but should otherwise match: "
                                     + ",".join(name_rules.is_dns1035_label(value.lower()))))
    for i, short in enumerate(names.get("shortNames") or ()):
        out += _label(f"{path}.shortNames[{i}]", short) if short else [field.invalid(
            f"{path}.shortNames[{i}]", short, ",".join(name_rules.is_dns1035_label("")))]
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        out.append(field.invalid(f"{path}.listKind", names["listKind"], "kind and listKind may not be the same"))
    for i, cat in enumerate(names.get("categories") or ()):
        out += _label(f"{path}.categories[{i}]", cat) if cat else [field.invalid(
            f"{path}.categories[{i}]", cat, ",".join(name_rules.is_dns1035_label("")))]
    return out


def validate_versions(versions, path: str) -> list[Cause]:
    if not isinstance(versions, list):
        versions = []
    out: list[Cause] = []
    seen: set[str] = set()
    unique = True
    for i, v in enumerate(versions):
        vp = f"{path}[{i}]"
        if not isinstance(v, dict):
            continue
        vname = v.get("name") or ""
        if vname in seen:
            unique = False
        seen.add(vname)
        if name_rules.is_dns1035_label(vname):
            out.append(field.invalid(f"{vp}.name", vname, ",".join(name_rules.is_dns1035_label(vname))))
        out += _version(v, vp)
    if not unique:
        out.append(field.invalid(path, versions, "must contain unique version names"))
    if sum(1 for v in versions if isinstance(v, dict) and v.get("storage")) != 1:
        out.append(field.invalid(path, versions, "must have exactly one version marked as storage version"))
    return out


def _version(v: dict, vp: str) -> list[Cause]:
    out = _deprecation(v, vp)
    schema = (v.get("schema") or {}).get("openAPIV3Schema")
    sp = f"{vp}.schema.openAPIV3Schema"
    subresources = v.get("subresources") or {}
    if not isinstance(schema, dict):
        out.append(field.required(sp, "schemas are required"))
    else:
        out += schema_rules.validate(schema, sp, status_enabled="status" in subresources)
    out += _scale(subresources.get("scale"), f"{vp}.subresources")
    for i, col in enumerate(v.get("additionalPrinterColumns") or ()):
        if isinstance(col, dict):
            out += _column(col, f"{vp}.additionalPrinterColumns[{i}]")
    if v.get("selectableFields"):
        out += _selectable_fields(v["selectableFields"], schema if isinstance(schema, dict) else None,
                                  f"{vp}.selectableFields")
    return out


def _deprecation(v: dict, vp: str) -> list[Cause]:
    warning = v.get("deprecationWarning")
    if warning is None:
        return []
    why = []
    if not v.get("deprecated"):
        why = ["can only be set for deprecated versions"]
    else:
        if len(warning) > 256:
            why.append("must be <= 256 characters long")
        if not warning:
            why.append("must not be an empty string")
        for i, ch in enumerate(warning):
            if not ch.isprintable():
                why.append(f"must only contain printable UTF-8 characters; non-printable character found at index {i}")
                break
    return [field.invalid(f"{vp}.deprecationWarning", warning, w) for w in why]


def _simple_json_path(value: str, path: str) -> list[Cause]:
    if not value:
        return [field.invalid(path, value, "must not be empty")]
    if not value.startswith("."):
        return [field.invalid(path, value, "must be a simple json path starting with .")]
    return []


def _scale(scale, path: str) -> list[Cause]:
    if not isinstance(scale, dict):
        return []
    out: list[Cause] = []
    for key, under in (("specReplicasPath", ".spec."), ("statusReplicasPath", ".status.")):
        value, p = scale.get(key) or "", f"{path}.scale.{key}"
        if not value:
            out.append(field.required(p))
        elif (errs := _simple_json_path(value, p)):
            out += errs
        elif not value.startswith(under):
            out.append(field.invalid(p, value, f"should be a json path under {under.rstrip('.')}"))
    selector = scale.get("labelSelectorPath")
    if selector:
        p = f"{path}.scale.labelSelectorPath"
        if (errs := _simple_json_path(selector, p)):
            out += errs
        elif not selector.startswith((".spec.", ".status.")):
            out.append(field.invalid(p, selector, "should be a json path under either .spec or .status"))
    return out


def _column(col: dict, path: str) -> list[Cause]:
    out: list[Cause] = []
    if not col.get("name"):
        out.append(field.required(f"{path}.name"))
    t = col.get("type")
    if not t:
        out.append(field.required(f"{path}.type", f"must be one of {','.join(_COLUMN_TYPES)}"))
    elif t not in _COLUMN_TYPES:
        out.append(field.invalid(f"{path}.type", t, f"must be one of {','.join(_COLUMN_TYPES)}"))
    if col.get("format") and col["format"] not in _COLUMN_FORMATS:
        out.append(field.invalid(f"{path}.format", col["format"], f"must be one of {','.join(_COLUMN_FORMATS)}"))
    if not col.get("jsonPath"):
        out.append(field.required(f"{path}.JSONPath"))
    else:
        out += _simple_json_path(col["jsonPath"], f"{path}.JSONPath")
    return out


def _selectable_fields(fields, schema: dict | None, path: str) -> list[Cause]:
    if schema is None:
        return [field.invalid(path, "", "selectableFields may only be set when version.schema.openAPIV3Schema is "
                                        "not included")]
    out: list[Cause] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        jp = (f or {}).get("jsonPath") if isinstance(f, dict) else None
        p = f"{path}[{i}].jsonPath"
        if not jp:
            out.append(field.required(p))
            continue
        steps = jp.lstrip(".").split(".") if jp.startswith(".") else None
        node = schema
        for step in steps or ():
            node = ((node or {}).get("properties") or {}).get(step) if step else None
        if not steps or node is None:
            out.append(field.invalid(p, jp, "is an invalid path: does not refer to a valid field"))
            continue
        if steps[0] == "metadata":
            out.append(field.invalid(p, jp, "must not point to fields in metadata"))
        if node.get("type") not in ("string", "boolean", "integer"):
            out.append(field.invalid(p, jp, "must point to a field of type string, boolean or integer. Enum string "
                                            "fields and strings with formats are allowed."))
        if jp in seen:
            out.append(field.duplicate(p, jp))
        seen.add(jp)
    if len(seen) > MAX_SELECTABLE_FIELDS:
        out.append(field.too_many(path, len(seen), MAX_SELECTABLE_FIELDS))
    return out


def validate_conversion(conversion, path: str) -> list[Cause]:
    if not isinstance(conversion, dict):
        return []
    strategy = conversion.get("strategy")
    if not strategy:
        return [field.required(f"{path}.strategy")]
    if strategy not in _CONVERSIONS:
        return [field.not_supported(f"{path}.strategy", strategy, _CONVERSIONS)]
    webhook = conversion.get("webhook")
    cc = (webhook or {}).get("clientConfig") if isinstance(webhook, dict) else None
    versions = (webhook or {}).get("conversionReviewVersions") if isinstance(webhook, dict) else None
    if strategy != "Webhook":
        out = []
        if cc is not None:
            out.append(field.forbidden(f"{path}.webhookClientConfig", "should not be set when strategy is not set to Webhook"))
        if versions:
            out.append(field.forbidden(f"{path}.conversionReviewVersions",
                                       "should not be set when strategy is not set to Webhook"))
        return out
    out: list[Cause] = []
    if not isinstance(cc, dict):
        out.append(field.required(f"{path}.webhookClientConfig", "required when strategy is set to Webhook"))
    elif bool(cc.get("url") is not None) == bool(cc.get("service") is not None):
        out.append(field.required(f"{path}.webhookClientConfig", "exactly one of url or service is required"))
    elif cc.get("url") is not None:
        out += webhook_url(cc["url"], f"{path}.webhookClientConfig.url")
    else:
        out += webhook_service(cc["service"], f"{path}.webhookClientConfig.service")
    out += _review_versions(versions, f"{path}.conversionReviewVersions")
    return out


def webhook_url(url: str, path: str) -> list[Cause]:
    """Upstream's ValidateWebhookURL (https only)."""
    form = "; desired format: https://host[/path]"
    try:
        u = urlsplit(url)
    except ValueError as e:
        return [field.required(path, f"url must be a valid URL: {e}{form}")]
    out: list[Cause] = []
    if u.scheme != "https":
        out.append(field.invalid(path, u.scheme, "'https' is the only allowed URL scheme" + form))
    if not u.netloc:
        out.append(field.invalid(path, u.netloc, "host must be provided" + form))
    if u.username is not None:
        out.append(field.invalid(path, u.username, "user information is not permitted in the URL"))
    if u.fragment:
        out.append(field.invalid(path, u.fragment, "fragments are not permitted in the URL"))
    if u.query:
        out.append(field.invalid(path, u.query, "query parameters are not permitted in the URL"))
    return out


def webhook_service(svc, path: str) -> list[Cause]:
    """Upstream's ValidateWebhookService."""
    svc = svc if isinstance(svc, dict) else {}
    out: list[Cause] = []
    if not svc.get("name"):
        out.append(field.required(f"{path}.name", "service name is required"))
    if not svc.get("namespace"):
        out.append(field.required(f"{path}.namespace", "service namespace is required"))
    port = svc.get("port", 443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        out.append(field.invalid(f"{path}.port", port, "port is not valid: must be between 1 and 65535, inclusive"))
    p = svc.get("path")
    if p and p != "/" and not p.startswith("/"):
        out.append(field.invalid(f"{path}.path", p, "must start with a '/'"))
    return out


def _review_versions(versions, path: str) -> list[Cause]:
    if not versions:
        return [field.required(path)]
    out: list[Cause] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        if v in seen:
            out.append(field.invalid(f"{path}[{i}]", v, "duplicate version"))
            continue
        seen.add(v)
        out += [field.invalid(f"{path}[{i}]", v, m) for m in name_rules.is_dns1035_label(str(v))]
    if not seen & set(_REVIEW_VERSIONS):
        out.append(field.invalid(path, versions, "must include at least one of v1, v1beta1"))
    return out


def validate_crd(crd: dict) -> list[Cause]:
    spec = crd.get("spec") or {}
    out = name_matches(crd)
    group = spec.get("group")
    if not group:
        out.append(field.required("spec.group"))
    elif name_rules.is_dns1123_subdomain(group):
        out.append(field.invalid("spec.group", group, ",".join(name_rules.is_dns1123_subdomain(group))))
    elif "." not in group:
        out.append(field.invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        out.append(field.required("spec.scope"))
    elif scope not in _SCOPES:
        out.append(field.not_supported("spec.scope", scope, _SCOPES))
    out += validate_versions(spec.get("versions"), "spec.versions")
    out += validate_names(spec.get("names") or {}, "spec.names")
    out += validate_conversion(spec.get("conversion"), "spec.conversion")
    return out


def _established(crd: dict) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or () if isinstance(c, dict))


def validate_crd_update(new: dict, old: dict) -> list[Cause]:
    out = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    nn, on = ns.get("names") or {}, os_.get("names") or {}
    if _established(old):   # these decide where objects are stored
        if ns.get("scope") != os_.get("scope"):
            out.append(field.immutable("spec.scope", ns.get("scope")))
        if nn.get("kind") != on.get("kind"):
            out.append(field.immutable("spec.names.kind", nn.get("kind")))
    if ns.get("group") != os_.get("group"):
        out.append(field.immutable("spec.group", ns.get("group")))
    if nn.get("plural") != on.get("plural"):
        out.append(field.immutable("spec.names.plural", nn.get("plural")))
    out += stored_versions(new)
    return out


def stored_versions(crd: dict) -> list[Cause]:
    """status.storedVersions: every version once stored stays in spec.versions until migrated away."""
    stored = list((crd.get("status") or {}).get("storedVersions") or [])
    names = {v.get("name") for v in (crd.get("spec") or {}).get("versions") or () if isinstance(v, dict)}
    return [field.invalid(f"status.storedVersions[{i}]", v,
                          f"missing from spec.versions; {v} was previously a storage version, and must remain in "
                          f"spec.versions until a storage migration ensures no data remains persisted in {v} and "
                          f"removes {v} from status.storedVersions")
            for i, v in enumerate(stored) if v not in names]
