"""Deployment rollout arithmetic and status conditions (controllers/rollout.py,
controllers/deploymentstatus.py), without I/O."""
from __future__ import annotations

from controllers import deploymentstatus, rollout


def dep(replicas=10, surge="25%", unavailable="25%", kind="RollingUpdate", **spec):
    strategy = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": replicas, "strategy": strategy, **spec}}


def rs(name, replicas, available=None, created="2024-01-01T00:00:00Z", revision=None):
    meta = {"name": name, "creationTimestamp": created}
    if revision is not None:
        meta["annotations"] = {rollout.REVISION: str(revision)}
    return {"metadata": meta, "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "availableReplicas": replicas if available is None else available,
                       "readyReplicas": replicas if available is None else available}}


def test_surge_rounds_up_and_unavailable_down():
    assert rollout.surge_and_unavailable(dep(10)) == (3, 2)
    assert rollout.surge_and_unavailable(dep(3)) == (1, 0)
    assert rollout.surge_and_unavailable(dep(3, surge=0, unavailable=0)) == (0, 1)
    assert rollout.surge_and_unavailable(dep(4, kind="Recreate")) == (0, 4)


def test_new_replicaset_grows_within_surge():
    d = dep(10)
    old = rs("old", 10)
    new = rs("new", 0)
    assert rollout.new_rs_replicas(d, [old, new], new) == 3  # 10 + 3 surge - 10 running
    assert rollout.new_rs_replicas(d, [rs("old", 13), new], new) == 0  # at the ceiling already


def test_old_replicasets_shrink_keeping_min_available():
    d = dep(10)  # surge 3, unavailable 2 -> keep 8 available
    old, new = rs("old", 10), rs("new", 3, available=0)
    assert rollout.old_scale_down(d, [old, new], [old], new) == {"old": 8}
    new_ready = rs("new", 3)
    assert rollout.old_scale_down(d, [old, new_ready], [old], new_ready) == {"old": 5}


def test_unhealthy_old_replicas_go_first():
    d = dep(4, surge=1, unavailable=0)
    old = rs("old", 4, available=2)  # two broken pods
    new = rs("new", 1)
    assert rollout.old_scale_down(d, [old, new], [old], new) == {"old": 3}  # a broken one, not a healthy one
    unready_new = rs("new", 1, available=0)
    assert rollout.old_scale_down(d, [old, unready_new], [old], unready_new) == {}  # no room yet


def test_proportional_scaling_spreads_the_change():
    # upstream's row: 10 replicas (surge 3, unavailable 2) stuck at 8 old + 5 new, scaled to 30
    d = dep(30, surge=3, unavailable=2)
    a, b = rs("a", 8, created="2024-01-01T00:00:00Z"), rs("b", 5, created="2024-01-02T00:00:00Z")
    for r in (a, b):
        r["metadata"]["annotations"] = {rollout.MAX_REPLICAS: "13"}
    assert rollout.proportional_sizes(d, [a, b], b) == {"a": 20, "b": 13}
    down = dep(5, surge=3, unavailable=2)
    assert sum(rollout.proportional_sizes(down, [a, b], b).values()) == 8


def test_template_hash_ignores_the_hash_label_and_differs_by_collision():
    tpl = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    h = rollout.template_hash(tpl)
    assert h == rollout.template_hash(tpl) and h != rollout.template_hash(tpl, 1)
    labelled = {"metadata": {"labels": {"app": "x", rollout.HASH_LABEL: h}}, "spec": tpl["spec"]}
    assert rollout.same_template(labelled, tpl)
    assert not set(h) & set("aeiou")


def test_history_keeps_the_newest_idle_replicasets():
    olds = [rs(f"r{i}", 0, revision=i) for i in range(1, 6)]
    assert [r["metadata"]["name"] for r in rollout.history_to_delete(olds, 2)] == ["r1", "r2", "r3"]
    assert rollout.history_to_delete(olds, 10) == []


def test_conditions_follow_the_rollout():
    d = dep(3, surge=1, unavailable=0, progressDeadlineSeconds=600)
    new = rs("d-abc", 3, available=1)
    st = deploymentstatus.compute(d, [new], new, 1000.0, created_new=True)
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Progressing"]["reason"] == "NewReplicaSetCreated"
    assert conds["Available"]["reason"] == "MinimumReplicasUnavailable"
    d["status"] = st
    done = rs("d-abc", 3)
    st2 = deploymentstatus.compute(d, [done], done, 1010.0)
    conds = {c["type"]: c for c in st2["conditions"]}
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conds["Progressing"]["message"] == 'ReplicaSet "d-abc" has successfully progressed.'
    assert conds["Available"]["status"] == "True"


def test_a_stalled_rollout_times_out():
    d = dep(3, surge=1, unavailable=0, progressDeadlineSeconds=10)
    new = rs("d-abc", 3, available=1)
    d["status"] = deploymentstatus.compute(d, [new], new, 1000.0, created_new=True)
    d["status"] = deploymentstatus.compute(d, [new], new, 1005.0)
    st = deploymentstatus.compute(d, [new], new, 1100.0)
    prog = deploymentstatus.condition(st, "Progressing")
    assert (prog["status"], prog["reason"]) == ("False", "ProgressDeadlineExceeded")


def test_replica_failure_moves_from_the_replicaset_to_the_deployment_and_clears():
    from kubeclient import ApiError
    from controllers.replication import with_replica_failure
    refused = ApiError(403, "Forbidden", {"message": 'pods "d-1-" is forbidden: exceeded quota: q'})
    failing = with_replica_failure({"replicas": 1}, refused, now=0)
    cond = failing["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    assert cond["message"] == 'pods "d-1-" is forbidden: exceeded quota: q'
    assert with_replica_failure(failing, refused, now=5) == failing  # kept as first set, not re-stamped
    new = rs("d-1", 1)
    new["status"]["conditions"] = failing["conditions"]
    status = deploymentstatus.compute(dep(1), [new], new, 10.0)
    copied = deploymentstatus.condition(status, "ReplicaFailure")
    assert (copied["reason"], copied["message"], copied["lastUpdateTime"]) == (
        "FailedCreate", cond["message"], cond["lastTransitionTime"])
    assert "conditions" not in with_replica_failure(failing, None)
    new["status"].pop("conditions")
    assert deploymentstatus.condition(deploymentstatus.compute(dep(1), [new], new, 11.0), "ReplicaFailure") is None
