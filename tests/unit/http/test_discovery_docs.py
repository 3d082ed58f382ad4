from openapi.catalogue import load

from apiserver.http import discovery


def test_core_resource_list_has_subresources_and_short_names():
    gv = load().group_version("", "v1")
    doc = discovery.resource_list(gv)
    by_name = {r["name"]: r for r in doc["resources"]}
    assert doc["groupVersion"] == "v1"
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["categories"] == ["all"]
    assert by_name["nodes"]["shortNames"] == ["no"]
    assert by_name["pods/status"]["kind"] == "Pod" and by_name["pods/status"]["singularName"] == ""
    assert by_name["pods/eviction"]["group"] == "policy"
    assert by_name["replicationcontrollers/scale"]["group"] == "autoscaling"


def test_aggregated_discovery_splits_core_and_groups():
    cat = load()
    core = discovery.aggregated(cat, True, "v2")
    groups = discovery.aggregated(cat, False, "v2beta1")
    assert core["apiVersion"] == "apidiscovery.k8s.io/v2" and [i["metadata"]["name"] for i in core["items"]] == [""]
    names = {i["metadata"]["name"] for i in groups["items"]}
    assert "" not in names and "coordination.k8s.io" in names
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["scope"] == "Namespaced" and pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert {"subresource": "status", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
            "verbs": ["get", "patch", "update"]} in pods["subresources"]


def test_accept_chooses_aggregated_version():
    v2 = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
          "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
    assert discovery.wants_aggregated(v2) == "v2"
    assert discovery.wants_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json") == "v2beta1"
    assert discovery.wants_aggregated("application/json") is None
    assert discovery.wants_aggregated(None) is None
