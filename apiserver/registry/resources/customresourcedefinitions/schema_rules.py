"""The rules a CRD version's openAPIV3Schema must follow, worded as
apiextensions-apiserver's CRD validation:

1. it is structural (structural.py);
2. once it is, every `default` validates against its own schema and has no field
   pruning would drop;
3. the OpenAPI subset CRDs allow: known types, no $ref/definitions/patternProperties/
   dependencies/additionalItems/id, additionalProperties and properties exclusive,
   no uniqueItems, no defaults in the root's metadata, apiVersion or kind;
4. x-kubernetes-list-type / -list-map-keys / -map-type consistent with the types;
5. x-kubernetes-validations well formed, and (when nothing else is wrong) each rule
   compiles; oldSelf only where old and new values can be matched up.

Pure: `validate(schema, path, status_enabled)` returns the causes.
"""
from __future__ import annotations

import copy
import re

from apiserver.machinery.errors import Cause
from apiserver.registry.customresources import cel, schema as cr_schema
from apiserver.registry.validation import field

from . import structural

OPENAPI_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
_META_FIELDS = ("metadata", "kind", "apiVersion")
_REASONS = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]
_UNSUPPORTED = (("id", "id is not supported"), ("additionalItems", "additionalItems is not supported"),
                ("patternProperties", "patternProperties is not supported"),
                ("definitions", "definitions is not supported"), ("dependencies", "dependencies is not supported"),
                ("$ref", "$ref is not supported"))
# The root may hold only these when /status is a subresource (status is cut out as properties[status]).
_STATUS_ROOT_FIELDS = {
    "description": "Description", "type": "Type", "format": "Format", "title": "Title", "maximum": "Maximum",
    "exclusiveMaximum": "ExclusiveMaximum", "minimum": "Minimum", "exclusiveMinimum": "ExclusiveMinimum",
    "maxLength": "MaxLength", "minLength": "MinLength", "pattern": "Pattern", "maxItems": "MaxItems",
    "minItems": "MinItems", "uniqueItems": "UniqueItems", "multipleOf": "MultipleOf", "required": "Required",
    "items": "Items", "properties": "Properties", "externalDocs": "ExternalDocs", "example": "Example",
    "x-kubernetes-preserve-unknown-fields": "XPreserveUnknownFields", "x-kubernetes-validations": "XValidations"}
# Keywords upstream holds as pointers: set even when false or empty.
_POINTERS = {"additionalProperties", "items", "not", "default", "x-kubernetes-preserve-unknown-fields",
             "x-kubernetes-list-type", "x-kubernetes-map-type"}
_NEWLINES = re.compile(r"[\n\r]+")


def validate(schema: dict, path: str, status_enabled: bool = False) -> list[Cause]:
    out: list[Cause] = []
    if status_enabled:
        out += _status_root(schema, path)
    if schema.get("nullable"):
        out.append(field.forbidden(f"{path}.nullable", "nullable cannot be true at the root"))
    not_structural = structural.errors(schema, path)
    out += not_structural
    if not not_structural:
        out += defaults(schema, path)
    walk = _Walk()
    walk.schema(schema, path, _Context(root=True))
    out += walk.errors
    if not out:   # upstream compiles rules only for schemas that are otherwise valid
        out += walk.cel_errors
    return out


def _status_root(s: dict, path: str) -> list[Cause]:
    for key, value in s.items():
        if not structural._set(value) and not (key in _POINTERS and value is not None):
            continue
        if key == "type":
            if value != "object":
                return [field.invalid(f"{path}.type", value, 'only "object" is allowed as the type at the root of '
                                                             "the schema if the status subresource is enabled")]
            continue
        if key not in _STATUS_ROOT_FIELDS:
            allowed = " ".join(_STATUS_ROOT_FIELDS.values())
            return [field.invalid(path, s, f"only [{allowed}] fields are allowed at the root of the schema if the "
                                           "status subresource is enabled")]
    return []


# ---- defaults ------------------------------------------------------------------

def defaults(schema: dict, path: str) -> list[Cause]:
    """Every default valid against its schema and already pruned (metadata's defaults
    are refused by the OpenAPI rules instead)."""
    out: list[Cause] = []
    _defaults(schema, path, out, resource=True)
    return out


def _defaults(s, path: str, out: list[Cause], resource: bool = False, in_meta: bool = False) -> None:
    if not isinstance(s, dict):
        return
    resource = resource or bool(s.get("x-kubernetes-embedded-resource"))
    if "default" in s and not in_meta:
        value = s["default"]
        pruned = copy.deepcopy(value)
        cr_schema.prune(s, pruned, root=resource)
        if pruned != value:
            out.append(field.invalid(f"{path}.default", value, "must not have unknown fields"))
        out += cr_schema.validate(s, value, f"{path}.default")
    # additionalProperties is not followed: defaults are forbidden there
    if isinstance(s.get("items"), dict):
        _defaults(s["items"], f"{path}.items", out, in_meta=in_meta)
    for name, sub in (s.get("properties") or {}).items():
        _defaults(sub, f"{path}.properties[{name}]", out, in_meta=in_meta or (resource and name in _META_FIELDS))


# ---- the OpenAPI subset, list and map types, x-kubernetes-validations ---------------

class _Context:
    def __init__(self, root: bool = False, in_meta: bool = False, no_defaults: str | None = None,
                 uncorrelatable: str | None = None):
        self.root, self.in_meta, self.no_defaults, self.uncorrelatable = root, in_meta, no_defaults, uncorrelatable

    def child(self, **changes) -> "_Context":
        c = _Context(False, self.in_meta, self.no_defaults, self.uncorrelatable)
        for k, v in changes.items():
            if k == "uncorrelatable" and c.uncorrelatable is not None:
                continue   # the highest path that breaks correlation is the one reported
            setattr(c, k, v)
        return c


class _Walk:
    def __init__(self):
        self.errors: list[Cause] = []
        self.cel_errors: list[Cause] = []

    def schema(self, s, path: str, ctx: _Context) -> None:
        if not isinstance(s, dict):
            return
        e = self.errors
        t = s.get("type") or ""
        if t and t not in OPENAPI_TYPES:
            e.append(field.not_supported(f"{path}.type", t, OPENAPI_TYPES))
        if "default" in s and ctx.no_defaults is not None:
            e.append(field.forbidden(f"{path}.default", f"must not be set {ctx.no_defaults}".strip()))
        for key, why in _UNSUPPORTED:
            if structural._set(s.get(key)):
                e.append(field.forbidden(f"{path}.{key}", why))
        if t == "null":
            e.append(field.forbidden(f"{path}.type", "type cannot be set to null, use nullable as an alternative"))
        if isinstance(s.get("items"), list):
            e.append(field.forbidden(f"{path}.items", "items must be a schema object and not an array"))
        if ctx.in_meta and s.get("x-kubernetes-embedded-resource"):
            e.append(field.forbidden(f"{path}.x-kubernetes-embedded-resource", "must not be used inside of resource meta"))
        if s.get("uniqueItems"):
            e.append(field.forbidden(f"{path}.uniqueItems",
                                     "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        props = s.get("properties") or {}
        extra = s.get("additionalProperties")
        if extra is not None:
            if props and (extra is False or isinstance(extra, dict)):
                e.append(field.forbidden(f"{path}.additionalProperties",
                                         "additionalProperties and properties are mutual exclusive"))
            sub = ctx.child(no_defaults="inside additionalProperties applying to object metadata") if ctx.in_meta \
                else ctx.child()
            self.schema(extra, f"{path}.additionalProperties", sub)
        resource = ctx.root or bool(s.get("x-kubernetes-embedded-resource"))
        for name, prop in props.items():
            sub = ctx.child(uncorrelatable=path) if s.get("x-kubernetes-map-type") == "atomic" else ctx.child()
            if resource and name in _META_FIELDS:
                sub.in_meta = True
                if ctx.root:
                    sub.no_defaults = f"in top-level {name}"
            self.schema(prop, f"{path}.properties[{name}]", sub)
        if isinstance(s.get("not"), dict):
            self.schema(s["not"], f"{path}.not", ctx.child())
        for junctor in ("allOf", "oneOf", "anyOf"):
            for i, sub_schema in enumerate(s.get(junctor) or ()):
                self.schema(sub_schema, f"{path}.{junctor}[{i}]", ctx.child())
        if isinstance(s.get("items"), dict):
            sub = ctx.child(uncorrelatable=path) if s.get("x-kubernetes-list-type") != "map" else ctx.child()
            self.schema(s["items"], f"{path}.items", sub)
        if s.get("x-kubernetes-preserve-unknown-fields") is False:
            e.append(field.invalid(f"{path}.x-kubernetes-preserve-unknown-fields", False, "must be true or undefined"))
        self._map_and_list_types(s, t, path)
        self._rules(s, path, ctx)

    def _map_and_list_types(self, s: dict, t: str, path: str) -> None:
        e = self.errors
        map_type, list_type = s.get("x-kubernetes-map-type"), s.get("x-kubernetes-list-type")
        keys = s.get("x-kubernetes-list-map-keys") or []
        items = s.get("items") if isinstance(s.get("items"), dict) else None
        if map_type is not None and t != "object":
            e.append(field.required(f"{path}.type", "must be object if x-kubernetes-map-type is specified") if not t
                     else field.invalid(f"{path}.type", t, "must be object if x-kubernetes-map-type is specified"))
        if map_type is not None and map_type not in ("atomic", "granular"):
            e.append(field.not_supported(f"{path}.x-kubernetes-map-type", map_type, ["atomic", "granular"]))
        if list_type is not None and t != "array":
            e.append(field.required(f"{path}.type", "must be array if x-kubernetes-list-type is specified") if not t
                     else field.invalid(f"{path}.type", t, "must be array if x-kubernetes-list-type is specified"))
        elif list_type == "set" and items is not None:
            if items.get("type") == "array" and items.get("x-kubernetes-list-type", "atomic") != "atomic":
                e.append(field.invalid(f"{path}.items.x-kubernetes-list-type", items["x-kubernetes-list-type"],
                                       "must be atomic as item of a list with x-kubernetes-list-type=set"))
            elif items.get("type") == "object" and items.get("x-kubernetes-map-type") != "atomic":
                e.append(field.invalid(f"{path}.items.x-kubernetes-map-type", items.get("x-kubernetes-list-type"),
                                       "must be atomic as item of a list with x-kubernetes-list-type=set"))
        if list_type is not None and list_type not in ("atomic", "set", "map"):
            e.append(field.not_supported(f"{path}.x-kubernetes-list-type", list_type, ["atomic", "set", "map"]))
        if keys:
            if list_type is None:
                e.append(field.required(f"{path}.x-kubernetes-list-type",
                                        "must be map if x-kubernetes-list-map-keys is non-empty"))
            elif list_type != "map":
                e.append(field.invalid(f"{path}.x-kubernetes-list-type", list_type,
                                       "must be map if x-kubernetes-list-map-keys is non-empty"))
        if list_type == "map":
            self._map_list(s, items, keys, path)
        if list_type in ("set", "map") and items is not None and items.get("nullable"):
            e.append(field.forbidden(f"{path}.items.nullable", f"cannot be nullable when x-kubernetes-list-type is {list_type}"))

    def _map_list(self, s: dict, items: dict | None, keys: list, path: str) -> None:
        e = self.errors
        if not keys:
            e.append(field.required(f"{path}.x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map"))
        if s.get("items") is None:
            e.append(field.required(f"{path}.items", "must have a schema if x-kubernetes-list-type is map"))
            return
        if items is None:
            e.append(field.invalid(f"{path}.items", s["items"], "must only have a single schema if x-kubernetes-list-type is map"))
            return
        if items.get("type") != "object":
            e.append(field.invalid(f"{path}.items.type", items.get("type", ""),
                                   "must be object if parent array's x-kubernetes-list-type is map"))
            return
        props, seen = items.get("properties") or {}, set()
        required = set(items.get("required") or ())
        for k in keys:
            prop = props.get(k)
            if prop is None:
                e.append(field.invalid(f"{path}.x-kubernetes-list-map-keys", keys, "entries must all be names of item properties"))
            else:
                if prop.get("type") in ("array", "object"):
                    e.append(field.invalid(f"{path}.items.properties[{k}].type", items.get("type"),
                                           "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                if k not in required and "default" not in prop:
                    e.append(field.required(f"{path}.items.properties[{k}].default", "this property is in "
                                            "x-kubernetes-list-map-keys, so it must have a default or be a required property"))
                if prop.get("nullable"):
                    e.append(field.forbidden(f"{path}.items.properties[{k}].nullable",
                                             "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
            if k in seen:
                e.append(field.invalid(f"{path}.x-kubernetes-list-map-keys", keys, "must not contain duplicate entries"))
            seen.add(k)

    def _rules(self, s: dict, path: str, ctx: _Context) -> None:
        rules = s.get("x-kubernetes-validations") or []
        e = self.errors
        for i, rule in enumerate(rules):
            rp = f"{path}.x-kubernetes-validations[{i}]"
            if not isinstance(rule, dict):
                continue
            text, message = str(rule.get("rule") or ""), rule.get("message")
            if not text.strip():
                e.append(field.required(f"{rp}.rule", "rule is not specified"))
            elif message and not str(message).strip():
                e.append(field.invalid(f"{rp}.message", message, "message must be non-empty if specified"))
            elif message and _NEWLINES.search(str(message).strip()):
                e.append(field.invalid(f"{rp}.message", message, "message must not contain line breaks"))
            elif _NEWLINES.search(text.strip()) and not str(message or "").strip():
                e.append(field.required(f"{rp}.message", "message must be specified if rule contains line breaks"))
            expr = rule.get("messageExpression")
            if expr and not str(expr).strip():
                e.append(field.required(f"{rp}.messageExpression", "messageExpression must be non-empty if specified"))
            if rule.get("reason") is not None and rule["reason"] not in _REASONS:
                e.append(field.not_supported(f"{rp}.reason", rule["reason"], _REASONS))
            fp = rule.get("fieldPath")
            if fp:
                if not str(fp).strip():
                    e.append(field.invalid(f"{rp}.fieldPath", fp, "fieldPath must be non-empty if specified"))
                if _NEWLINES.search(str(fp)):
                    e.append(field.invalid(f"{rp}.fieldPath", fp, "fieldPath must not contain line breaks"))
                if not _path_valid(s, str(fp)):
                    e.append(field.invalid(f"{rp}.fieldPath", fp, "fieldPath must be a valid path"))
            if not text.strip():
                continue
            why = cel.compile_error(text) or cel.undefined_field(text, s)
            if why:
                self.cel_errors.append(field.invalid(f"{rp}.rule", _shown_rule(rule), f"compilation failed: {why}"))
            uses_old_self = "oldSelf" in text
            if uses_old_self and ctx.uncorrelatable is not None:
                self.cel_errors.append(field.invalid(f"{rp}.rule", text, "oldSelf cannot be used on the uncorrelatable "
                                                                         f"portion of the schema within {ctx.uncorrelatable}"))
            elif not uses_old_self and rule.get("optionalOldSelf") is not None:
                self.cel_errors.append(field.invalid(f"{rp}.optionalOldSelf", rule["optionalOldSelf"],
                                                     "may not be set if oldSelf is not used in rule"))


def _shown_rule(rule: dict) -> dict:
    """The rule as upstream shows the whole ValidationRule in the error."""
    return {"rule": rule.get("rule", ""), "message": rule.get("message", ""),
            "messageExpression": rule.get("messageExpression", ""), "reason": rule.get("reason"),
            "fieldPath": rule.get("fieldPath", ""), "optionalOldSelf": rule.get("optionalOldSelf")}


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^']*)'\]|\[(\d+)\]")


def _path_valid(s: dict, path: str) -> bool:
    """A fieldPath (.a.b, .a['x-y'], .list[0]) that names fields the schema declares."""
    pos, node = 0, s
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            return False
        pos = m.end()
        if m.group(3) is not None:
            if node.get("type") != "array" or not isinstance(node.get("items"), dict):
                return False
            node = node["items"]
            continue
        name = m.group(1) if m.group(1) is not None else m.group(2)
        props = node.get("properties") or {}
        if name in props:
            node = props[name]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
    return True
