"""Defaults, validation wording, tables and field selectors of the workload kinds."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from openapi.catalogue import load

from apiserver.registry.resources import strategy_for


def strategy(group, plural):
    return strategy_for(next(r for r in load().resources() if (r.group, r.plural) == (group, plural)))


NOW = datetime(2024, 1, 1, 0, 10, tzinfo=timezone.utc)


def deployment(**spec):
    labels = {"app": "web"}
    return {"metadata": {"name": "web", "namespace": "d", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{"name": "c", "image": "nginx"}]}}, **spec}}


def causes(s, obj):
    return {(c.field, c.message) for c in s.check_create(obj)}


def test_deployment_defaults_as_upstream():
    s = strategy("apps", "deployments")
    d = deployment()
    s.defaults(d)
    assert d["spec"]["replicas"] == 1 and d["spec"]["revisionHistoryLimit"] == 10
    assert d["spec"]["progressDeadlineSeconds"] == 600
    assert d["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert d["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_deployment_rules_in_upstream_words():
    s = strategy("apps", "deployments")
    d = deployment(replicas=-1)
    d["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    s.defaults(d)
    found = causes(s, d)
    assert ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0") in found
    assert ("spec.template.metadata.labels",
            'Invalid value: {"app":"other"}: `selector` does not match template `labels`') in found
    no_selector = deployment()
    del no_selector["spec"]["selector"]
    s.defaults(no_selector)
    assert ("spec.selector", "Required value") in causes(s, no_selector)
    both_zero = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}})
    s.defaults(both_zero)
    assert ("spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not be 0 when `maxSurge` is 0") \
        in causes(s, both_zero)
    old = deployment()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "x"}}
    assert any(c.field == "spec.selector" and "field is immutable" in c.message for c in s.validate_update(new, old))


def test_deployment_table_and_scale_selector():
    s = strategy("apps", "deployments")
    d = deployment(replicas=3)
    d["status"] = {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    assert [c["name"] for c in s.columns()] == ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers",
                                                "Images", "Selector"]
    assert s.cells(d, NOW) == ["web", "2/3", 3, 2, "10m", "c", "nginx", "app=web"]


def test_job_selector_generated_and_defaults():
    s = strategy("batch", "jobs")
    job = {"metadata": {"name": "pi", "namespace": "d", "uid": "u-1"},
           "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}
    s.prepare_for_create(job)
    s.defaults(job)
    spec = job["spec"]
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert spec["template"]["metadata"]["labels"]["job-name"] == "pi"
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"], spec["completionMode"]) == (1, 1, 6, "NonIndexed")
    assert not s.check_create(job)
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert any(c.field == "spec.template.spec.restartPolicy" for c in s.check_create(job))
    assert s.fields(dict(job, status={"succeeded": 2}))["status.successful"] == "2"


def test_job_table():
    s = strategy("batch", "jobs")
    job = {"metadata": {"name": "pi", "creationTimestamp": "2024-01-01T00:00:00Z"},
           "spec": {"completions": 6, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
           "status": {"succeeded": 6, "startTime": "2024-01-01T00:00:00Z", "completionTime": "2024-01-01T00:00:42Z",
                      "conditions": [{"type": "Complete", "status": "True"}]}}
    assert s.cells(job, NOW)[:5] == ["pi", "Complete", "6/6", "42s", "10m"]


def test_cronjob_defaults_and_schedule_rules():
    s = strategy("batch", "cronjobs")
    cj = {"metadata": {"name": "tick", "namespace": "d"}, "spec": {"schedule": "*/5 * * *", "timeZone": "Mars/Olympus",
          "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                                         "containers": [{"name": "c", "image": "i"}]}}}}}}
    s.defaults(cj)
    assert (cj["spec"]["concurrencyPolicy"], cj["spec"]["successfulJobsHistoryLimit"],
            cj["spec"]["failedJobsHistoryLimit"], cj["spec"]["suspend"]) == ("Allow", 3, 1, False)
    found = causes(s, cj)
    assert ("spec.schedule", 'Invalid value: "*/5 * * *": expected exactly 5 fields, found 4: */5 * * *') in found
    assert ("spec.timeZone", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus') in found
    for accepted in ("@every 1h30m", "*/1 * * * ?", "@hourly"):  # robfig/cron's standard parser takes these
        cj["spec"].update(schedule=accepted, timeZone=None)
        assert not causes(s, cj), accepted
    cj["spec"]["schedule"] = "@every 5 minutes"
    assert [c[0] for c in causes(s, cj)] == ["spec.schedule"]


def test_pdb_rules_and_table():
    s = strategy("policy", "poddisruptionbudgets")
    pdb = {"metadata": {"name": "p", "namespace": "d", "creationTimestamp": "2024-01-01T00:00:00Z"},
           "spec": {"minAvailable": 1, "maxUnavailable": "10%", "selector": {"matchLabels": {"a": "b"}}}}
    assert any(c.field == "spec" and "cannot be both set" in c.message for c in s.check_create(pdb))
    del pdb["spec"]["maxUnavailable"]
    pdb["status"] = {"disruptionsAllowed": 1}
    assert s.cells(pdb, NOW) == ["p", "1", "N/A", 1, "10m"]


def test_replicaset_field_selector():
    s = strategy("apps", "replicasets")
    assert s.fields({"metadata": {"name": "r", "namespace": "d"}})["status.replicas"] == "0"


def test_daemonset_rolling_update_takes_exactly_one_of_surge_and_unavailable():
    s = strategy("apps", "daemonsets")

    def ds(rolling):
        obj = deployment(updateStrategy={"type": "RollingUpdate", "rollingUpdate": rolling})
        s.defaults(obj)
        return causes(s, obj)
    # maxUnavailable defaults to 1: a surge alone must say maxUnavailable 0, as upstream
    assert ds({"maxSurge": 1}) == {("spec.updateStrategy.rollingUpdate.maxSurge",
                                   "Invalid value: 1: may not be set when maxUnavailable is non-zero")}
    assert ds({"maxSurge": "25%", "maxUnavailable": 0}) == set()
    assert ds({"maxSurge": 0, "maxUnavailable": 0}) == {("spec.updateStrategy.rollingUpdate.maxUnavailable",
                                                        "Required value: cannot be 0 when maxSurge is 0")}
    assert ds({"maxUnavailable": "10%"}) == set()
