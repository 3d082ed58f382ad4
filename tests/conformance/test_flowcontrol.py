"""API Priority and Fairness API rows (flowcontrol.apiserver.k8s.io/v1), as the
upstream e2e test drives them: discovery, create x3 from a generateName template,
get, list by label, watch from the list's resourceVersion, merge patch, update,
/status get, patch and update, delete, deletecollection."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.conformance.rows import row

GROUP, VERSION = "flowcontrol.apiserver.k8s.io", "v1"


def _discovered(api, plural: str) -> None:
    groups = client.ApisApi(api).get_api_versions().groups
    group = next(g for g in groups if g.name == GROUP)
    assert VERSION in [v.version for v in group.versions]
    names = {r.name for r in client.FlowcontrolApiserverV1Api(api).get_api_resources().resources}
    assert {plural, f"{plural}/status"} <= names


def _exercise(api, plural: str, template: dict, patch_spec: dict, update, spec_value) -> None:
    fc = client.FlowcontrolApiserverV1Api(api)
    kind = "flow_schema" if plural == "flowschemas" else "priority_level_configuration"
    create, get, lst = (getattr(fc, f"create_{kind}"), getattr(fc, f"read_{kind}"), getattr(fc, f"list_{kind}"))
    label = f"example-e2e-{uuid.uuid4().hex[:8]}"
    template["metadata"]["labels"] = {"example-e2e-label": label}
    selector = f"example-e2e-label={label}"
    try:
        create(template)
        create(template)
        made = create(template)
        read = get(made.metadata.name)
        assert read.metadata.uid == made.metadata.uid and int(read.metadata.resource_version) > 0
        listed = lst(label_selector=selector)
        assert len(listed.items) == 3

        w = watch.Watch()
        stream = w.stream(lst, label_selector=selector, resource_version=listed.metadata.resource_version,
                          timeout_seconds=30)
        patched = getattr(fc, f"patch_{kind}")(made.metadata.name,
                                                {"metadata": {"annotations": {"patched": "true"}}, "spec": patch_spec})
        assert patched.metadata.annotations["patched"] == "true"
        assert int(patched.metadata.resource_version) > int(made.metadata.resource_version)
        current = get(made.metadata.name)
        current.metadata.annotations["updated"] = "true"
        update(current.spec)
        updated = getattr(fc, f"replace_{kind}")(made.metadata.name, current)
        assert updated.metadata.annotations["updated"] == "true" and spec_value(updated.spec) == spec_value(current.spec)
        for event in stream:
            assert event["type"] == "MODIFIED"
            if (event["object"].metadata.annotations or {}).get("patched") == "true":
                w.stop()
                break
        else:
            pytest.fail("no watch event carried the patched annotation")

        status = getattr(fc, f"read_{kind}_status")(made.metadata.name)
        assert status.metadata.uid == made.metadata.uid and status.kind in ("FlowSchema", "PriorityLevelConfiguration")
        patched = getattr(fc, f"patch_{kind}_status")(made.metadata.name, {"status": {"conditions": [
            {"type": "PatchStatusFailed", "status": "False", "reason": "e2e"}]}})
        assert any(c.type == "PatchStatusFailed" for c in patched.status.conditions)
        current = get(made.metadata.name)
        condition = client.V1FlowSchemaCondition if plural == "flowschemas" else \
            client.V1PriorityLevelConfigurationCondition
        current.status.conditions.append(condition(type="StatusUpdateFailed", status="False", reason="E2E",
                                                   message="Set from an e2e test"))
        updated = getattr(fc, f"replace_{kind}_status")(made.metadata.name, current)
        assert any(c.type == "StatusUpdateFailed" for c in updated.status.conditions)

        getattr(fc, f"delete_{kind}")(made.metadata.name)
        with pytest.raises(ApiException) as e:
            get(made.metadata.name)
        assert e.value.status == 404
        assert len(lst(label_selector=selector).items) == 2
    finally:
        getattr(fc, f"delete_collection_{kind}")(label_selector=selector)
    assert lst(label_selector=selector).items == []


@row("Priority and Fairness FlowSchema API", release="v1.29", needs="API",
     codename="[sig-api-machinery] API priority and fairness should support FlowSchema API operations")
def test_flowschema_api_operations(api):
    _discovered(api, "flowschemas")
    template = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "FlowSchema",
                "metadata": {"generateName": "e2e-example-fs-"},
                "spec": {"matchingPrecedence": 10000, "priorityLevelConfiguration": {"name": "global-default"},
                         "distinguisherMethod": {"type": "ByUser"},
                         "rules": [{"subjects": [{"kind": "User", "user": {"name": "example-e2e-non-existent-user"}}],
                                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}

    def update(spec):
        spec.matching_precedence = 9000
    _exercise(api, "flowschemas", template, {"matchingPrecedence": 9999}, update,
              lambda spec: spec.matching_precedence)


@row("Priority and Fairness PriorityLevelConfiguration API", release="v1.29", needs="API",
     codename="[sig-api-machinery] API priority and fairness should support PriorityLevelConfiguration API operations")
def test_prioritylevelconfiguration_api_operations(api):
    _discovered(api, "prioritylevelconfigurations")
    template = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PriorityLevelConfiguration",
                "metadata": {"generateName": "e2e-example-pl-"},
                "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 2,
                                                        "limitResponse": {"type": "Reject"}}}}

    def update(spec):
        spec.limited.nominal_concurrency_shares = 6
    _exercise(api, "prioritylevelconfigurations", template, {"limited": {"nominalConcurrencyShares": 4}}, update,
              lambda spec: spec.limited.nominal_concurrency_shares)
