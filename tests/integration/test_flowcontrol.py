"""flowcontrol.apiserver.k8s.io/v1: the mandatory and suggested configuration of a
1.33 server, kept in place at start; upstream's defaults, validation and tables."""
from __future__ import annotations

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

FLOW_SCHEMAS = {"exempt", "probes", "system-leader-election", "endpoint-controller", "workload-leader-election",
                "system-node-high", "system-nodes", "kube-controller-manager", "kube-scheduler",
                "kube-system-service-accounts", "service-accounts", "global-default", "catch-all"}
PRIORITY_LEVELS = {"catch-all", "exempt", "global-default", "leader-election", "node-high", "system",
                   "workload-high", "workload-low"}


@pytest.fixture(scope="module")
def fc(api_client):
    return client.FlowcontrolApiserverV1Api(api_client)


def test_bootstrap_configuration_is_there(fc):
    schemas = {f.metadata.name: f for f in fc.list_flow_schema().items}
    levels = {p.metadata.name: p for p in fc.list_priority_level_configuration().items}
    assert FLOW_SCHEMAS <= set(schemas) and PRIORITY_LEVELS <= set(levels)
    exempt = levels["exempt"]
    assert exempt.spec.type == "Exempt" and exempt.spec.exempt.nominal_concurrency_shares == 0
    catch_all = levels["catch-all"].spec.limited
    assert (catch_all.nominal_concurrency_shares, catch_all.limit_response.type) == (5, "Reject")
    wl = levels["workload-low"].spec.limited
    assert (wl.nominal_concurrency_shares, wl.lendable_percent, wl.limit_response.queuing.queues) == (100, 90, 128)
    probes = schemas["probes"].spec
    assert (probes.priority_level_configuration.name, probes.matching_precedence) == ("exempt", 2)
    assert probes.rules[0].non_resource_rules[0].non_resource_urls == ["/healthz", "/readyz", "/livez"]
    assert schemas["catch-all"].metadata.annotations["apf.kubernetes.io/autoupdate-spec"] == "true"


def test_kubectl_tables(kubectl):
    fs = kubectl("get", "flowschemas").stdout.splitlines()
    assert fs[0].split() == ["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"]
    assert next(line for line in fs if line.startswith("probes ")).split()[1:4] == ["exempt", "2", "<none>"]
    pl = kubectl("get", "prioritylevelconfigurations").stdout.splitlines()
    assert pl[0].split() == ["NAME", "TYPE", "NOMINALCONCURRENCYSHARES", "QUEUES", "HANDSIZE", "QUEUELENGTHLIMIT",
                             "AGE"]
    assert next(line for line in pl if line.startswith("system ")).split()[1:6] == ["Limited", "30", "64", "6", "50"]


def _invalid(create, body) -> str:
    with pytest.raises(ApiException) as e:
        create(body)
    assert e.value.status == 422, e.value.body
    return e.value.body


def test_defaults_and_validation(fc):
    pl = fc.create_priority_level_configuration({"metadata": {"generateName": "pl-"}, "spec": {
        "type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {}}}}})
    try:
        lim = pl.spec.limited
        assert (lim.nominal_concurrency_shares, lim.lendable_percent) == (30, 0)
        q = lim.limit_response.queuing
        assert (q.queues, q.hand_size, q.queue_length_limit) == (64, 8, 50)
    finally:
        fc.delete_priority_level_configuration(pl.metadata.name)
    body = _invalid(fc.create_priority_level_configuration, {"metadata": {"name": "bad"}, "spec": {
        "type": "Limited", "limited": {"lendablePercent": 101, "limitResponse": {
            "type": "Queue", "queuing": {"queues": 4, "handSize": 5, "queueLengthLimit": 1}}}}})
    assert "spec.limited.lendablePercent" in body and "must be between 0 and 100, inclusive" in body
    assert "should not be greater than queues (4)" in body
    body = _invalid(fc.create_priority_level_configuration, {"metadata": {"name": "bad"}, "spec": {"type": "Exempt"}})
    assert "type must be 'Exempt' if and only if name is 'exempt'" in body
    fs = fc.create_flow_schema({"metadata": {"generateName": "fs-"}, "spec": {
        "priorityLevelConfiguration": {"name": "global-default"},
        "rules": [{"subjects": [{"kind": "Group", "group": {"name": "devs"}}],
                   "resourceRules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"],
                                      "namespaces": ["*"]}]}]}})
    assert fs.spec.matching_precedence == 1000
    fc.delete_flow_schema(fs.metadata.name)
    body = _invalid(fc.create_flow_schema, {"metadata": {"name": "bad"}, "spec": {
        "matchingPrecedence": 10001, "priorityLevelConfiguration": {"name": "global-default"},
        "rules": [{"subjects": [], "resourceRules": [{"verbs": ["get", "*"], "apiGroups": [""],
                                                      "resources": ["pods"]}]}]}})
    assert "must not be greater than 10000" in body and "subjects must contain at least one value" in body
    assert "if '*' is present, must not specify other verbs" in body
    assert "resource rules that are not cluster scoped must supply at least one namespace" in body


def test_configuration_is_put_back_at_start(server_factory, tmp_path):
    first = server_factory(tmp_path / "state")
    api = config.new_client_from_config(config_file=str(first.kubeconfig))
    fc = client.FlowcontrolApiserverV1Api(api)
    fc.patch_flow_schema("catch-all", {"spec": {"matchingPrecedence": 9000}})       # mandatory: reset
    fc.delete_flow_schema("global-default")                                          # suggested: recreated
    fc.patch_priority_level_configuration("workload-low", {                          # opted out: kept
        "metadata": {"annotations": {"apf.kubernetes.io/autoupdate-spec": "false"}},
        "spec": {"limited": {"nominalConcurrencyShares": 7}}})
    api.close()
    first.stop()
    second = server_factory(tmp_path / "state")
    api = config.new_client_from_config(config_file=str(second.kubeconfig))
    fc = client.FlowcontrolApiserverV1Api(api)
    assert fc.read_flow_schema("catch-all").spec.matching_precedence == 10000
    assert fc.read_flow_schema("global-default").spec.matching_precedence == 9900
    assert fc.read_priority_level_configuration("workload-low").spec.limited.nominal_concurrency_shares == 7
    api.close()
