"""A DaemonSet lands one pod on each of two node agents and rolls to a new
template; a StatefulSet brings its pods up in order, named by ordinal."""
from __future__ import annotations

import json

from tests.e2e.test_cluster_two_nodes import IMAGE, ns, running, two_nodes  # noqa: F401 (fixtures)


def _manifest(kind: str, name: str, **spec) -> str:
    labels = {"app": name}
    return json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": {
        "selector": {"matchLabels": labels}, **spec, "template": {"metadata": {"labels": labels}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": IMAGE, "command": ["sleep", "3600"]}]}}}})


def test_daemonset_runs_one_pod_per_node_and_rolls(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=_manifest("DaemonSet", "agent"))
    c.kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=120s", timeout=150)
    pods = running(c.pods(ns, "app=agent"))
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(c.nodes)
    table = c.kubectl("get", "ds", "agent", "-n", ns).stdout.splitlines()
    assert table[1].split()[1:6] == ["2", "2", "2", "2", "2"]
    c.kubectl("set", "env", "ds/agent", "ROUND=2", "-n", ns)
    c.kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=120s", timeout=150)
    c.wait_for("both pods replaced by the new template", lambda: sorted(
        p["spec"]["nodeName"] for p in running(c.pods(ns, "app=agent"))
        if any(e.get("name") == "ROUND" for e in p["spec"]["containers"][0].get("env") or [])) == sorted(c.nodes),
        timeout=120)
    revisions = c.get("controllerrevisions", "-n", ns)["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]


def test_statefulset_brings_pods_up_in_order(two_nodes, ns):
    c = two_nodes
    c.kubectl("create", "-n", ns, "-f", "-", input=_manifest("StatefulSet", "db", replicas=3, serviceName="db"))
    c.kubectl("rollout", "status", "sts/db", "-n", ns, "--timeout=180s", timeout=200)
    pods = {p["metadata"]["name"]: p for p in c.pods(ns, "app=db")}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    started = [pods[n]["metadata"]["creationTimestamp"] for n in ("db-0", "db-1", "db-2")]
    assert started == sorted(started)  # OrderedReady: each after the one before was Running and Ready
    events = c.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.kind=StatefulSet",
                       "-o", "json").stdout
    creates = sorted(e["message"] for e in json.loads(events)["items"] if e["reason"] == "SuccessfulCreate")
    assert creates == [f"create Pod db-{i} in StatefulSet db successful" for i in range(3)]
    assert all(pods[n]["spec"]["hostname"] == n and pods[n]["spec"]["subdomain"] == "db" for n in pods)
    c.kubectl("scale", "sts/db", "--replicas=1", "-n", ns)
    c.wait_for("scaled down to db-0", lambda: [p["metadata"]["name"] for p in c.pods(ns, "app=db")] == ["db-0"],
               timeout=120)
