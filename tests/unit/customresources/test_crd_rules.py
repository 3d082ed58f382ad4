"""What a CRD serves and the rules a CRD object must follow."""
from apiserver.registry.customresources import definitions
from apiserver.registry.resources.customresourcedefinitions.validation import validate_crd


def _crd(**spec):
    base = {"group": "stable.example.com", "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "listKind": "CronTabList",
                      "shortNames": ["ct"]},
            "versions": [
                {"name": "v1beta1", "served": True, "storage": False,
                 "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v1", "served": True, "storage": True, "subresources": {"status": {}, "scale": {
                    "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                 "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}}},
                {"name": "v2alpha1", "served": False, "storage": False,
                 "schema": {"openAPIV3Schema": {"type": "object"}}}],
            "conversion": {"strategy": "None"}}
    base.update(spec)
    return {"metadata": {"name": "crontabs.stable.example.com"}, "spec": base}


def test_served_versions_in_upstream_priority_with_one_storage_key():
    rs = definitions.resources(_crd())
    assert [r.version for r in rs] == ["v1", "v1beta1"]
    v1 = rs[0]
    assert (v1.kind, v1.singular, v1.namespaced, v1.short_names) == ("CronTab", "crontab", True, ("ct",))
    assert v1.storage_name == "stable.example.com/crontabs" == rs[1].storage_name
    assert [(s.name, s.kind, s.group) for s in v1.subresources] == [("status", "CronTab", None),
                                                                    ("scale", "Scale", "autoscaling")]
    assert v1.schema == "com.example.stable.v1.CronTab"
    defs = definitions.definitions(_crd())
    assert set(defs) == {"com.example.stable.v1.CronTab", "com.example.stable.v1.CronTabList",
                         "com.example.stable.v1beta1.CronTab", "com.example.stable.v1beta1.CronTabList"}
    assert defs["com.example.stable.v1.CronTab"]["properties"]["metadata"]["$ref"].endswith("v1.ObjectMeta")


def test_version_priority_follows_kubernetes_order():
    names = ["v1alpha1", "foo", "v2", "v1beta2", "v1", "v1beta1", "v10"]
    assert sorted(names, key=definitions.version_priority) == [
        "v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]


def test_crd_rules():
    assert validate_crd(_crd()) == []
    bad = _crd(group="nodots", scope="Everywhere")
    bad["spec"]["versions"][0]["storage"] = True
    bad["spec"]["versions"][1]["schema"] = {}
    got = [f"{c.field}: {c.message}" for c in validate_crd(bad)]
    assert got[0] == 'metadata.name: Invalid value: "crontabs.stable.example.com": must be spec.names.plural+"."+spec.group'
    assert 'spec.group: Invalid value: "nodots": should be a domain with at least one dot' in got
    assert 'spec.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespaced"' in got
    assert "spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required" in got
    assert any(g.endswith("must have exactly one version marked as storage version") for g in got)
