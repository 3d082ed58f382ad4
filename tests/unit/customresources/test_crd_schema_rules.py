"""A CRD version's openAPIV3Schema refused as apiextensions-apiserver refuses it:
structural rules, defaults, the OpenAPI subset, list/map types, CEL rules; and the
spec-level rules (conversion, columns, scale, versions, updates)."""
import copy

import pytest

from apiserver.registry.resources.customresourcedefinitions import schema_rules
from apiserver.registry.resources.customresourcedefinitions.validation import validate_crd, validate_crd_update

P = "spec.versions[0].schema.openAPIV3Schema"


def _obj(**props):
    return {"type": "object", "properties": props}


def _texts(schema, status=False):
    return [f"{c.field}: {c.message}" for c in schema_rules.validate(schema, P, status)]


@pytest.mark.parametrize("schema, message", [
    # structural: types everywhere
    ({"properties": {}}, f"{P}.type: Required value: must not be empty at the root"),
    ({"type": "string"}, f'{P}.type: Invalid value: "string": must be object at the root'),
    (_obj(spec={"properties": {"a": {"type": "string"}}}),
     f"{P}.properties[spec].type: Required value: must not be empty for specified object fields"),
    (_obj(list={"type": "array", "items": {}}),
     f"{P}.properties[list].items.type: Required value: must not be empty for specified array items"),
    (_obj(list={"type": "array"}), f"{P}.properties[list].items: Required value: must be specified"),
    ({"type": "object", "additionalProperties": {"type": "string"}},
     f"{P}.additionalProperties: Forbidden: must not be used at the root"),
    (_obj(x={"x-kubernetes-int-or-string": True, "x-kubernetes-preserve-unknown-fields": True}),
     f"{P}.properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if "
     "x-kubernetes-int-or-string is true"),
    (_obj(e={"type": "string", "x-kubernetes-embedded-resource": True}),
     f'{P}.properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true'),
    (_obj(e={"type": "object", "x-kubernetes-embedded-resource": True}),
     f"{P}.properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true "
     "without x-kubernetes-preserve-unknown-fields"),
    # metadata at the root: name and generateName only
    (_obj(metadata={"type": "object", "properties": {"labels": {"type": "object"}}}),
     f"{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but "
     "metadata is implicitly specified"),
    (_obj(metadata={"type": "string"}), f'{P}.properties[metadata].type: Invalid value: "string": must be object'),
    (_obj(kind={"type": "integer"}), f'{P}.properties[kind].type: Invalid value: "integer": must be string'),
    # value validations only restrict
    ({"type": "object", "anyOf": [{"type": "object"}]}, f"{P}.anyOf[0].type: Forbidden: must be empty to be structural"),
    ({"type": "object", "allOf": [{"properties": {"metadata": {"type": "object"}}}]},
     f"{P}.allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"),
    (_obj(s={"type": "string", "pattern": "(unclosed"}),
     f'{P}.properties[s].pattern: Invalid value: "(unclosed": must be a valid regular expression, but isn\'t: '),
    # completeness: what a junctor names is specified outside it too
    (_obj(spec={"type": "object", "properties": {"a": {"type": "string"}},
                "anyOf": [{"required": ["a"]}, {"properties": {"b": {"minLength": 1}}}]}),
     f"{P}.properties[spec].properties[b]: Required value: because it is defined in "
     f"{P}.properties[spec].anyOf[1].properties[b]"),
    # defaults: valid and pruned
    (_obj(n={"type": "integer", "maximum": 10, "default": 20}),
     f"{P}.properties[n].default: Invalid value: 20: {P}.properties[n].default in body should be less than or "
     "equal to 10"),
    (_obj(o={"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": "x", "b": "y"}}),
     f'{P}.properties[o].default: Invalid value: {{"a":"x","b":"y"}}: must not have unknown fields'),
    (_obj(metadata={"type": "object", "default": {"name": "x"}}),
     f"{P}.properties[metadata].default: Forbidden: must not be set in top-level metadata"),
    # the OpenAPI subset
    (_obj(a={"type": "thing"}), f'{P}.properties[a].type: Unsupported value: "thing": supported values: "array", '
                                '"boolean", "integer", "number", "object", "string"'),
    (_obj(a={"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "string"}}),
     f"{P}.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
    (_obj(a={"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
     f"{P}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity "
     "becomes quadratic"),
    (_obj(a={"$ref": "#/definitions/x"}), f"{P}.properties[a].$ref: Forbidden: $ref is not supported"),
    (_obj(a={"type": "object", "x-kubernetes-preserve-unknown-fields": False}),
     f"{P}.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"),
    # list and map types
    (_obj(l={"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]},
             "x-kubernetes-list-type": "map"}),
     f"{P}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"),
    (_obj(l={"type": "array", "items": {"type": "string"}, "x-kubernetes-list-map-keys": ["k"]}),
     f"{P}.properties[l].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"),
    (_obj(l={"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "map",
             "x-kubernetes-list-map-keys": ["k"]}),
     f'{P}.properties[l].items.type: Invalid value: "string": must be object if parent array\'s '
     "x-kubernetes-list-type is map"),
    (_obj(l={"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}},
             "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"]}),
     f"{P}.properties[l].items.properties[k].default: Required value: this property is in "
     "x-kubernetes-list-map-keys, so it must have a default or be a required property"),
    (_obj(l={"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]},
             "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["nope"]}),
     f'{P}.properties[l].x-kubernetes-list-map-keys: Invalid value: ["nope"]: entries must all be names of item '
     "properties"),
    (_obj(l={"type": "string", "x-kubernetes-list-type": "set"}),
     f'{P}.properties[l].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified'),
    (_obj(l={"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}),
     f'{P}.properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"'),
    (_obj(m={"type": "string", "x-kubernetes-map-type": "atomic"}),
     f'{P}.properties[m].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified'),
    # x-kubernetes-validations
    (_obj(a={"type": "string", "x-kubernetes-validations": [{"rule": " "}]}),
     f"{P}.properties[a].x-kubernetes-validations[0].rule: Required value: rule is not specified"),
    (_obj(a={"type": "string", "x-kubernetes-validations": [{"rule": "self == 'x'", "reason": "Nope"}]}),
     f'{P}.properties[a].x-kubernetes-validations[0].reason: Unsupported value: "Nope": supported values: '
     '"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"'),
    (_obj(a={"type": "string", "x-kubernetes-validations": [{"rule": "self ==", "message": "m"}]}),
     f'{P}.properties[a].x-kubernetes-validations[0].rule: Invalid value: {{"rule":"self ==","message":"m",'
     '"messageExpression":"","reason":null,"fieldPath":"","optionalOldSelf":null}: compilation failed: '),
    (_obj(o={"type": "object", "properties": {"a": {"type": "string"}},
             "x-kubernetes-validations": [{"rule": "self.b == 'x'"}]}),
     f'{P}.properties[o].x-kubernetes-validations[0].rule: Invalid value: {{"rule":"self.b == \'x\'",'
     '"message":"","messageExpression":"","reason":null,"fieldPath":"","optionalOldSelf":null}: compilation '
     "failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b == 'x'\n | ....^"),
    (_obj(l={"type": "array", "items": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}),
     f'{P}.properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot '
     f"be used on the uncorrelatable portion of the schema within {P}.properties[l]"),
    (_obj(o={"type": "object", "properties": {"a": {"type": "string"}},
             "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".b"}]}),
     f'{P}.properties[o].x-kubernetes-validations[0].fieldPath: Invalid value: ".b": fieldPath must be a valid path'),
])
def test_schema_refused_with_upstreams_message(schema, message):
    got = _texts(schema)
    assert any(g.startswith(message) for g in got), got


@pytest.mark.parametrize("schema", [
    _obj(spec=_obj(replicas={"type": "integer", "default": 1, "minimum": 0}, port={"x-kubernetes-int-or-string": True},
                   free={"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                   tags={"type": "object", "additionalProperties": {"type": "string"}},
                   items={"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                          "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
                   ios={"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
                   word={"type": "string", "pattern": r"^\p{L}+\z"},   # RE2 syntax Python's re lacks
                   tpl={"type": "object", "x-kubernetes-embedded-resource": True,
                        "x-kubernetes-preserve-unknown-fields": True}),
         metadata={"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}},
         status=_obj(ok={"type": "boolean"})),
])
def test_good_schema_passes(schema):
    assert _texts(schema, status=True) == []


def test_structural_errors_come_sorted_and_hide_default_checks():
    schema = _obj(b={"properties": {}}, a={"properties": {}}, n={"type": "integer", "default": "x"})
    got = _texts(schema)
    assert got[:2] == [f"{P}.properties[a].type: Required value: must not be empty for specified object fields",
                       f"{P}.properties[b].type: Required value: must not be empty for specified object fields"]
    assert not any(".default" in g for g in got)


def test_status_subresource_restricts_the_root():
    got = _texts({"type": "object", "properties": {}, "additionalProperties": False}, status=True)
    assert any("fields are allowed at the root of the schema if the status subresource is enabled" in g for g in got)


def _crd(**spec):
    base = {"group": "g.example.com", "scope": "Namespaced",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList"},
            "versions": [{"name": "v1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": _obj(spec=_obj(replicas={"type": "integer"}))}}],
            "conversion": {"strategy": "None"}}
    base.update(spec)
    return {"metadata": {"name": "things.g.example.com"}, "spec": base}


def _spec_texts(crd):
    return [f"{c.field}: {c.message}" for c in validate_crd(crd)]


WEBHOOK = {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
                                              "clientConfig": {"url": "https://127.0.0.1:1/convert"}}}


@pytest.mark.parametrize("conversion, message", [
    ({"strategy": "Webhook"}, "spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
                              "Webhook"),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "conversionReviewVersions": ["v9"]}},
     'spec.conversion.conversionReviewVersions: Invalid value: ["v9"]: must include at least one of v1, v1beta1'),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "conversionReviewVersions": []}},
     "spec.conversion.conversionReviewVersions: Required value"),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "clientConfig": {"url": "http://x/convert"}}},
     "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; "
     "desired format: https://host[/path]"),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "clientConfig": {"url": "https://x/c?a=b"}}},
     'spec.conversion.webhookClientConfig.url: Invalid value: "a=b": query parameters are not permitted in the URL'),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "clientConfig": {"service": {"name": "s"}}}},
     "spec.conversion.webhookClientConfig.service.namespace: Required value: service namespace is required"),
    ({**WEBHOOK, "webhook": {**WEBHOOK["webhook"], "clientConfig": {}}},
     "spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required"),
    ({"strategy": "None", "webhook": WEBHOOK["webhook"]},
     "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook"),
])
def test_conversion_rules(conversion, message):
    assert message in _spec_texts(_crd(conversion=conversion))


def test_webhook_conversion_accepted():
    assert _spec_texts(_crd(conversion=WEBHOOK)) == []


def test_version_rules():
    v = _crd()["spec"]["versions"][0]
    twice = _crd(versions=[v, {**v, "storage": False}])
    assert any(t.startswith("spec.versions: Invalid value: ") and t.endswith("must contain unique version names")
               for t in _spec_texts(twice))
    col = {**v, "additionalPrinterColumns": [{"name": "R", "type": "int", "jsonPath": "spec.replicas"}],
           "subresources": {"scale": {"specReplicasPath": ".status.r", "statusReplicasPath": ".status.r"}},
           "deprecationWarning": "old"}
    got = _spec_texts(_crd(versions=[col]))
    for message in [
        'spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "int": must be one of '
        "boolean,date,integer,number,string",
        'spec.versions[0].additionalPrinterColumns[0].JSONPath: Invalid value: "spec.replicas": must be a simple json '
        "path starting with .",
        'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.r": should be a json path '
        "under .spec",
        'spec.versions[0].deprecationWarning: Invalid value: "old": can only be set for deprecated versions',
    ]:
        assert message in got


def test_update_rules():
    old = _crd()
    old["status"] = {"conditions": [{"type": "Established", "status": "True"}], "storedVersions": ["v1"]}
    new = copy.deepcopy(old)
    new["spec"]["scope"] = "Cluster"
    new["spec"]["names"]["kind"] = "Other"
    new["spec"]["versions"][0]["name"] = "v2"
    got = [f"{c.field}: {c.message}" for c in validate_crd_update(new, old)]
    assert 'spec.scope: Invalid value: "Cluster": field is immutable' in got
    assert 'spec.names.kind: Invalid value: "Other": field is immutable' in got
    assert any(g.startswith('status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was '
                            "previously a storage version") for g in got)
