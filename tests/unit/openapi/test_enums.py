"""`enum` in the served documents: every catalogued field the v3 documents define
carries it, the v2 document none (as upstream's swagger), and the values our
validators enforce are upstream's."""
from __future__ import annotations

import orjson
import pytest

from apiserver.http.openapi import documents
from apiserver.http.openapi.enum_catalogue import FIELDS, TYPES
from apiserver.registry.resources.services import validation as services
from apiserver.registry.validation import podspec


@pytest.fixture(scope="module")
def v2_definitions():
    return orjson.loads(documents.v2_document().body)["definitions"]


def test_every_catalogued_field_names_a_known_type():
    assert set(FIELDS.values()) <= set(TYPES)
    assert all(list(v) == sorted(v) for v in TYPES.values())


def test_v3_documents_carry_the_enums_upstream_publishes():
    core = orjson.loads(documents.v3_documents()["api/v1"].body)["components"]["schemas"]
    container = core["io.k8s.api.core.v1.Container"]["properties"]
    assert container["imagePullPolicy"]["enum"] == ["Always", "IfNotPresent", "Never"]
    assert core["io.k8s.api.core.v1.PodStatus"]["properties"]["phase"]["enum"][0] == "Failed"
    assert core["io.k8s.api.core.v1.HostPathVolumeSource"]["properties"]["type"]["enum"][0] == ""
    apps = orjson.loads(documents.v3_documents()["apis/apps/v1"].body)["components"]["schemas"]
    assert apps["io.k8s.api.apps.v1.DeploymentStrategy"]["properties"]["type"]["enum"] == ["Recreate", "RollingUpdate"]
    # a string field of no +enum type stays free
    assert "enum" not in core["io.k8s.api.core.v1.Secret"]["properties"]["type"]


def test_v3_documents_carry_every_catalogued_enum_they_define():
    schemas = {}
    for doc in documents.v3_documents().values():
        schemas.update(orjson.loads(doc.body).get("components", {}).get("schemas", {}))
    defined = [(d, p) for d, p in FIELDS if p in (schemas.get(d) or {}).get("properties", {})]
    assert len(defined) > 60
    for d, p in defined:
        assert schemas[d]["properties"][p]["enum"] == sorted(TYPES[FIELDS[(d, p)]]), (d, p)


def test_v2_definitions_carry_no_enum(v2_definitions):
    assert all("enum" not in (v2_definitions.get(d) or {}).get("properties", {}).get(p, {}) for d, p in FIELDS)


def test_validators_enforce_upstreams_values():
    pairs = [(podspec.PULL_POLICIES, "PullPolicy"), (podspec.RESTART_POLICIES, "RestartPolicy"),
             (podspec.DNS_POLICIES, "DNSPolicy"), (podspec.PROTOCOLS, "Protocol"),
             (podspec.TERMINATION_MESSAGE_POLICIES, "TerminationMessagePolicy"),
             (podspec.TOLERATION_OPERATORS, "TolerationOperator"), (podspec.TAINT_EFFECTS, "TaintEffect"),
             (services.SERVICE_TYPES, "ServiceType"), (services.AFFINITIES, "ServiceAffinity"),
             (services.TRAFFIC_POLICIES, "ServiceExternalTrafficPolicy"),
             (services.IP_FAMILY_POLICIES, "IPFamilyPolicy"), (services.PROTOCOLS, "Protocol")]
    for ours, upstream in pairs:
        assert sorted(ours) == sorted(TYPES[upstream]), upstream
