"""CustomResourceDefinitions and custom resources, through kubectl (1.27, 1.33) and
the official Python client (CustomObjectsApi, kubernetes.dynamic)."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
import yaml

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.{group}
spec:
  group: {group}
  scope: {scope}
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
    - name: v1
      served: true
      storage: true
      subresources:
        status: {{}}
        scale: {{specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
      additionalPrinterColumns:
        - {{name: Spec, type: string, jsonPath: .spec.cronSpec}}
        - {{name: Replicas, type: integer, jsonPath: .spec.replicas}}
        - {{name: Age, type: date, jsonPath: .metadata.creationTimestamp}}
      schema:
        openAPIV3Schema:
          type: object
          description: A CronTab runs an image on a schedule.
          properties:
            spec:
              type: object
              description: What to run and when.
              required: [cronSpec]
              properties:
                cronSpec:
                  type: string
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){{4}}$'
                  description: The schedule in cron format.
                image: {{type: string, maxLength: 20}}
                replicas: {{type: integer, minimum: 1, maximum: 10, default: 1}}
                mode: {{type: string, enum: [fast, slow]}}
            status:
              type: object
              properties:
                replicas: {{type: integer}}
"""


def _cron(group: str, name: str, **spec) -> str:
    body = {"apiVersion": f"{group}/v1", "kind": "CronTab", "metadata": {"name": name},
            "spec": {"cronSpec": "* * * * */5", "image": "cron-image", **spec}}
    return yaml.safe_dump(body)


def _install(kubectl, group: str, scope: str = "Namespaced", version: str = "1.33") -> None:
    kubectl("apply", "-f", "-", input=CRD.format(group=group, scope=scope), version=version)
    kubectl("wait", "--for=condition=Established", f"crd/crontabs.{group}", "--timeout=30s", version=version)


@pytest.fixture
def group():
    return f"t{uuid.uuid4().hex[:8]}.example.com"


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_round_trip_of_a_custom_resource(kubectl, namespace, group, version):
    _install(kubectl, group, version=version)
    crd = json.loads(kubectl("get", "crd", f"crontabs.{group}", "-o", "json", version=version).stdout)
    conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conds == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["acceptedNames"]["kind"] == "CronTab" and crd["status"]["storedVersions"] == ["v1"]

    kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "a"), version=version)
    out = kubectl("get", "ct", "-n", namespace, version=version).stdout.splitlines()
    assert out[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert out[1].split()[:7] == ["a", "*", "*", "*", "*", "*/5", "1"]   # replicas defaulted from the schema
    assert f"crontab.{group}/a" in kubectl("get", "all", "-n", namespace, version=version).stdout

    kubectl("scale", "-n", namespace, "ct/a", "--replicas=3", version=version)
    kubectl("patch", "-n", namespace, "ct/a", "--type=merge", "-p", '{"spec":{"image":"other"}}', version=version)
    got = json.loads(kubectl("get", "-n", namespace, "crontab/a", "-o", "json", version=version).stdout)
    assert got["spec"] == {"cronSpec": "* * * * */5", "image": "other", "replicas": 3}
    assert got["metadata"]["generation"] == 3

    cp = kubectl("patch", "-n", namespace, "ct/a", "-p", '{"spec":{"image":"x"}}', version=version, check=False)
    assert "the body of the request was in an unknown format - accepted media types include: " \
           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" in cp.stderr

    explain = kubectl("explain", "crontab.spec", version=version).stdout
    assert "What to run and when." in explain and "The schedule in cron format." in explain

    kubectl("delete", "crd", f"crontabs.{group}", version=version)
    cp = kubectl("get", f"crontabs.{group}", "-n", namespace, version=version, check=False)
    assert cp.returncode != 0 and "the server doesn't have a resource type" in cp.stderr


def test_invalid_objects_refused_with_upstream_messages(kubectl, namespace, group):
    _install(kubectl, group)
    bad = _cron(group, "bad", cronSpec="never", replicas=20, image="i" * 21, mode="medium")
    cp = kubectl("create", "-n", namespace, "-f", "-", input=bad, check=False)
    assert f'The CronTab "bad" is invalid: ' in cp.stderr
    for text in [
        "spec.cronSpec: Invalid value: \"never\": spec.cronSpec in body should match "
        "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
        "spec.image: Too long: may not be more than 20 bytes",
        'spec.mode: Unsupported value: "medium": supported values: "fast", "slow"',
        "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10",
    ]:
        assert text in cp.stderr
    cp = kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "t", replicas="two"), check=False)
    assert 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"' \
        in cp.stderr
    missing = yaml.safe_dump({"apiVersion": f"{group}/v1", "kind": "CronTab", "metadata": {"name": "m"},
                              "spec": {"image": "i"}})
    cp = kubectl("create", "-n", namespace, "-f", "-", input=missing, check=False)
    assert "spec.cronSpec: Required value" in cp.stderr
    cp = kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "u", extra=1), check=False)
    assert 'strict decoding error: unknown field "spec.extra"' in cp.stderr
    # pruned when the client does not ask for strict validation
    kubectl("create", "-n", namespace, "--validate=false", "-f", "-", input=_cron(group, "p", extra=1))
    got = json.loads(kubectl("get", "-n", namespace, "ct/p", "-o", "json").stdout)
    assert "extra" not in got["spec"]


def test_crd_names_and_versions_validated(kubectl, group):
    crd = yaml.safe_load(CRD.format(group=group, scope="Namespaced"))
    crd["metadata"]["name"] = "wrong." + group
    crd["spec"]["versions"][0]["storage"] = True
    crd["spec"]["names"]["kind"] = ""
    cp = kubectl("create", "-f", "-", input=yaml.safe_dump(crd), check=False)
    assert f'The CustomResourceDefinition "wrong.{group}" is invalid' in cp.stderr
    assert 'metadata.name: Invalid value: "wrong.' + group + '": must be spec.names.plural+"."+spec.group' \
        in cp.stderr
    assert "spec.names.kind: Required value" in cp.stderr
    assert "must have exactly one version marked as storage version" in cp.stderr


def test_python_clients_crud_watch_and_versions(kubectl, api_client, group):
    from kubernetes import client, dynamic, watch

    _install(kubectl, group, scope="Cluster")
    api = client.CustomObjectsApi(api_client)
    body = yaml.safe_load(_cron(group, "c1"))
    created = api.create_cluster_custom_object(group, "v1", "crontabs", body)
    assert created["spec"]["replicas"] == 1 and "namespace" not in created["metadata"]

    events: list[tuple[str, str]] = []
    w = watch.Watch()

    def follow():
        for ev in w.stream(api.list_cluster_custom_object, group, "v1", "crontabs",
                           resource_version=created["metadata"]["resourceVersion"], timeout_seconds=20):
            events.append((ev["type"], ev["object"]["metadata"]["name"]))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=follow)
    t.start()
    api.patch_cluster_custom_object_status(group, "v1", "crontabs", "c1", {"status": {"replicas": 4}})
    # the same object through the other served version (None conversion: apiVersion only)
    beta = api.get_cluster_custom_object(group, "v1beta1", "crontabs", "c1")
    assert beta["apiVersion"] == f"{group}/v1beta1" and beta["status"] == {"replicas": 4}

    dyn = dynamic.DynamicClient(api_client)
    crontabs = dyn.resources.get(api_version=f"{group}/v1", kind="CronTab")
    applied = crontabs.server_side_apply(body={"apiVersion": f"{group}/v1", "kind": "CronTab",
                                               "metadata": {"name": "c1"}, "spec": {"image": "applied"}},
                                         name="c1", field_manager="tester", force_conflicts=True)
    assert applied.spec.image == "applied"
    assert [i.metadata.name for i in crontabs.get().items] == ["c1"]
    api.delete_cluster_custom_object(group, "v1", "crontabs", "c1")
    t.join(30)
    assert events[0] == ("MODIFIED", "c1") and events[-1] == ("DELETED", "c1")


def test_deleting_a_crd_removes_its_objects(kubectl, api_client, namespace, group):
    from kubernetes import client

    _install(kubectl, group)
    kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "gone"))
    held = yaml.safe_load(_cron(group, "held"))
    held["metadata"]["finalizers"] = ["example.com/hold"]
    kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(held))
    kubectl("delete", "crd", f"crontabs.{group}", "--wait=false")
    crd = json.loads(kubectl("get", "crd", f"crontabs.{group}", "-o", "json").stdout)
    assert crd["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert {c["type"] for c in crd["status"]["conditions"]} >= {"Terminating"}
    cp = kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "late"), check=False)
    assert "create not allowed while custom resource definition is terminating" in cp.stderr
    kubectl("patch", "-n", namespace, f"crontabs.{group}/held", "--type=json",
            "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    kubectl("wait", "--for=delete", f"crd/crontabs.{group}", "--timeout=30s")
    _install(kubectl, group)   # served again: the old object did not survive
    assert client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        group, "v1", namespace, "crontabs")["items"] == []


def test_discovery_and_openapi_follow_crds(admin_http, kubectl, group):
    _install(kubectl, group)
    agg = admin_http.get("/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}).json()
    entry = next(i for i in agg["items"] if i["metadata"]["name"] == group)
    assert [v["version"] for v in entry["versions"]] == ["v1", "v1beta1"]
    res = entry["versions"][0]["resources"][0]
    assert res["resource"] == "crontabs" and res["shortNames"] == ["ct"] and res["categories"] == ["all"]
    assert {s["subresource"] for s in res["subresources"]} == {"status", "scale"}
    index = admin_http.get("/openapi/v3").json()["paths"]
    doc = admin_http.get(index[f"apis/{group}/v1"]["serverRelativeURL"]).json()
    name = ".".join(reversed(group.split("."))) + ".v1.CronTab"
    assert doc["components"]["schemas"][name]["properties"]["spec"]["required"] == ["cronSpec"]
    v2 = admin_http.get("/openapi/v2").json()
    assert name in v2["definitions"]
    kubectl("delete", "crd", f"crontabs.{group}")
    assert f"apis/{group}/v1" not in admin_http.get("/openapi/v3").json()["paths"]
    assert admin_http.get(f"/apis/{group}/v1").status_code == 404


CEL_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.{group}"},
    "spec": {"group": "{group}", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "selectableFields": [{"jsonPath": ".spec.color"}],
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                               "type": "object",
                               "x-kubernetes-validations": [
                                   {"rule": "self.replicas <= self.maxReplicas",
                                    "message": "replicas should be smaller than or equal to maxReplicas"}],
                               "properties": {
                                   "replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"},
                                   "color": {"type": "string", "x-kubernetes-validations": [
                                       {"rule": "self == oldSelf", "message": "color is immutable"}]}}}}}}}]}}


def _widget(group: str, name: str, **spec) -> str:
    return yaml.safe_dump({"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": name},
                           "spec": {"replicas": 1, "maxReplicas": 3, "color": "red", **spec}})


def test_cel_rules_and_selectable_fields(kubectl, namespace, group):
    crd = json.loads(json.dumps(CEL_CRD).replace("{group}", group))
    bad_rule = json.loads(json.dumps(crd))
    bad_rule["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-validations"][0]["rule"] = "self.replicas <="
    cp = kubectl("create", "-f", "-", input=yaml.safe_dump(bad_rule), check=False)
    assert ("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: "
            'Invalid value: {"rule":"self.replicas <=",') in cp.stderr and "compilation failed" in cp.stderr
    kubectl("create", "-f", "-", input=yaml.safe_dump(crd))
    kubectl("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=30s")

    cp = kubectl("create", "-n", namespace, "-f", "-", input=_widget(group, "w", replicas=5), check=False)
    assert ('The Widget "w" is invalid: spec: Invalid value: "object": replicas should be smaller than or '
            'equal to maxReplicas') in cp.stderr
    kubectl("create", "-n", namespace, "-f", "-", input=_widget(group, "w"))
    kubectl("create", "-n", namespace, "-f", "-", input=_widget(group, "v", color="blue"))
    cp = kubectl("patch", "-n", namespace, f"widgets.{group}/w", "--type=merge", "-p",
                 '{"spec":{"color":"green"}}', check=False)
    assert 'spec.color: Invalid value: "string": color is immutable' in cp.stderr
    kubectl("patch", "-n", namespace, f"widgets.{group}/w", "--type=merge", "-p", '{"spec":{"replicas":2}}')
    names = kubectl("get", f"widgets.{group}", "-n", namespace, "--field-selector", "spec.color=blue",
                    "-o", "name").stdout.split()
    assert names == [f"widget.{group}/v"]
    kubectl("delete", "crd", f"widgets.{group}")


def test_server_side_apply_merges_by_the_schemas_list_types(kubectl, namespace, group):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"gates.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "gates", "kind": "Gate"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                                      "x-kubernetes-list-map-keys": ["name"],
                                      "items": {"type": "object", "required": ["name"], "properties": {
                                          "name": {"type": "string"}, "port": {"type": "integer"}}}},
                            "tags": {"type": "array", "x-kubernetes-list-type": "set",
                                     "items": {"type": "string"}}}}}}}}]}}
    kubectl("create", "-f", "-", input=yaml.safe_dump(crd))
    kubectl("wait", "--for=condition=Established", f"crd/gates.{group}", "--timeout=30s")

    def apply(manager: str, spec: dict, check: bool = True):
        body = {"apiVersion": f"{group}/v1", "kind": "Gate", "metadata": {"name": "g"}, "spec": spec}
        return kubectl("apply", "--server-side", f"--field-manager={manager}", "-n", namespace, "-f", "-",
                       input=yaml.safe_dump(body), check=check)

    apply("one", {"ports": [{"name": "a", "port": 1}], "tags": ["x"]})
    apply("two", {"ports": [{"name": "b", "port": 2}], "tags": ["z"]})
    spec = json.loads(kubectl("get", "-n", namespace, f"gates.{group}/g", "-o", "json").stdout)["spec"]
    assert spec == {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}], "tags": ["x", "z"]}
    cp = apply("two", {"ports": [{"name": "a", "port": 3}]}, check=False)
    assert 'conflict with "one": .spec.ports[name="a"].port' in cp.stderr
    apply("two", {"ports": [{"name": "b", "port": 2}]})   # "z" is no longer applied by anyone: removed
    spec = json.loads(kubectl("get", "-n", namespace, f"gates.{group}/g", "-o", "json").stdout)["spec"]
    assert spec == {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}], "tags": ["x"]}
    kubectl("delete", "crd", f"gates.{group}")


def test_a_kind_already_served_in_the_group_is_a_name_conflict(kubectl, group):
    _install(kubectl, group)
    other = yaml.safe_load(CRD.format(group=group, scope="Namespaced"))
    other["metadata"]["name"] = f"crontables.{group}"
    other["spec"]["names"].update(plural="crontables", singular="crontable", shortNames=["ctb"])
    kubectl("create", "-f", "-", input=yaml.safe_dump(other))
    kubectl("wait", "--for=condition=NamesAccepted=False", f"crd/crontables.{group}", "--timeout=30s")
    crd = json.loads(kubectl("get", "crd", f"crontables.{group}", "-o", "json").stdout)
    cond = next(c for c in crd["status"]["conditions"] if c["type"] == "NamesAccepted")
    assert (cond["reason"], cond["message"]) == ("NameConflict", '"CronTab" is already in use')
    assert not any(c["type"] == "Established" for c in crd["status"]["conditions"])
    cp = kubectl("get", f"crontables.{group}", check=False)
    assert cp.returncode != 0
    kubectl("delete", "crd", f"crontabs.{group}")   # the names are free again: accepted and served
    kubectl("wait", "--for=condition=Established", f"crd/crontables.{group}", "--timeout=30s")
    kubectl("get", f"crontables.{group}")
    kubectl("delete", "crd", f"crontables.{group}")


def test_a_crd_with_a_bad_schema_is_refused_naming_the_fields(kubectl, group):
    bad = yaml.safe_load(CRD.format(group=group, scope="Namespaced"))
    schema = bad["spec"]["versions"][1]["schema"]["openAPIV3Schema"]
    spec = schema["properties"]["spec"]
    spec["properties"]["replicas"]["default"] = 20
    spec["properties"]["tags"] = {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                                  "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"]}
    spec["properties"]["loose"] = {"properties": {"a": {"type": "string"}}}
    schema["properties"]["metadata"] = {"type": "object", "properties": {"labels": {"type": "object"}}}
    schema["x-kubernetes-validations"] = [{"rule": "self.spec.replicas >"}]
    bad["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v9"],
                                                                    "clientConfig": {"url": "http://127.0.0.1/x"}}}
    cp = kubectl("create", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert cp.returncode != 0
    assert f'The CustomResourceDefinition "crontabs.{group}" is invalid: ' in cp.stderr
    p = "spec.versions[1].schema.openAPIV3Schema"
    for text in [
        f"{p}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but "
        "metadata is implicitly specified",
        f"{p}.properties[spec].properties[loose].type: Required value: must not be empty for specified object fields",
        "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme",
        'spec.conversion.conversionReviewVersions: Invalid value: ["v9"]: must include at least one of v1, v1beta1',
    ]:
        assert text in cp.stderr, text
    # once structural, defaults, list-map keys and CEL rules are checked
    schema["properties"].pop("metadata")
    spec["properties"].pop("loose")
    bad["spec"]["conversion"] = {"strategy": "None"}
    cp = kubectl("create", "-f", "-", input=yaml.safe_dump(bad), check=False)
    for text in [
        f"{p}.properties[spec].properties[replicas].default: Invalid value: 20: {p}.properties[spec].properties"
        "[replicas].default in body should be less than or equal to 10",
        f"{p}.properties[spec].properties[tags].items.properties[k].default: Required value: this property is in "
        "x-kubernetes-list-map-keys, so it must have a default or be a required property",
    ]:
        assert text in cp.stderr, text
    spec["properties"]["replicas"]["default"] = 1
    spec["properties"]["tags"]["items"]["required"] = ["k"]
    cp = kubectl("create", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert f"{p}.x-kubernetes-validations[0].rule: Invalid value: " in cp.stderr
    assert "compilation failed: " in cp.stderr


def test_quota_counts_custom_resources_once_whatever_their_versions(kubectl, namespace, group):
    _install(kubectl, group)   # two served versions (v1beta1, v1) of one stored kind
    kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "one"))
    kubectl("create", "quota", "crons", "-n", namespace, f"--hard=count/crontabs.{group}=2")
    quota = yaml.safe_load(kubectl("get", "quota", "crons", "-n", namespace, "-o", "yaml").stdout)
    assert quota["status"]["used"] == {f"count/crontabs.{group}": "1"}
    kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "two"))
    cp = kubectl("create", "-n", namespace, "-f", "-", input=_cron(group, "three"), check=False)
    assert cp.returncode != 0
    assert (f'crontabs.{group} "three" is forbidden: exceeded quota: crons, requested: count/crontabs.{group}=1, '
            f"used: count/crontabs.{group}=2, limited: count/crontabs.{group}=2") in cp.stderr
