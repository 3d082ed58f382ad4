"""Table columns and cells as kube-apiserver prints them."""
from datetime import datetime, timedelta, timezone

import pytest

from apiserver.registry.printing.humanize import human_duration
from apiserver.registry.resources import strategy_for
from openapi.catalogue import load

NOW = datetime(2025, 1, 10, 12, 0, 0, tzinfo=timezone.utc)


def ts(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def res(plural: str, group: str = ""):
    return load().lookup(group, "v1", plural)


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-1, "0s"), (5, "5s"), (119, "119s"), (120, "2m"), (182, "3m2s"), (600, "10m"),
    (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (7 * 3600 + 60, "7h1m"), (47 * 3600, "47h"),
    (51 * 3600, "2d3h"), (48 * 3600, "2d"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (3000 * 86400, "8y"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def pod(status=None, spec=None, meta=None):
    m = {"name": "p", "creationTimestamp": ts(timedelta(seconds=5))}
    m.update(meta or {})
    s = {"containers": [{"name": "c", "image": "i"}]}
    s.update(spec or {})
    return {"metadata": m, "spec": s, "status": status or {"phase": "Pending"}}


def cells(obj, plural="pods", group=""):
    return strategy_for(res(plural, group)).cells(obj, NOW)


def test_pod_columns_and_wide_priority():
    cols = strategy_for(res("pods")).columns()
    assert [c["name"] for c in cols] == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                         "Nominated Node", "Readiness Gates"]
    assert [c["priority"] for c in cols] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert cols[0]["format"] == "name"


def test_pending_pod():
    assert cells(pod()) == ["p", "0/1", "Pending", "0", "5s", "<none>", "<none>", "<none>", "<none>"]


def test_running_pod_with_restarts_ago():
    st = {"phase": "Running", "podIPs": [{"ip": "10.88.0.5"}], "containerStatuses": [{
        "name": "c", "ready": True, "restartCount": 2, "state": {"running": {}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(timedelta(minutes=5))}}}]}
    c = cells(pod(st, {"nodeName": "n1"}))
    assert c[1:4] == ["1/1", "Running", "2 (5m ago)"]
    assert c[5:7] == ["10.88.0.5", "n1"]


def test_crashloop_and_errors():
    wait = {"phase": "Running", "containerStatuses": [{"name": "c", "restartCount": 0,
                                                       "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    assert cells(pod(wait))[2] == "CrashLoopBackOff"
    pull = {"phase": "Pending", "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ErrImagePull"}}}]}
    assert cells(pod(pull))[2] == "ErrImagePull"
    done = {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
    assert cells(pod(done))[2] == "Completed"
    err = {"phase": "Failed", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}
    assert cells(pod(err))[2] == "Error"
    code = {"phase": "Failed", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 3}}}]}
    assert cells(pod(code))[2] == "ExitCode:3"


def test_init_containers():
    spec = {"initContainers": [{"name": "i", "image": "x"}]}
    st = {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"running": {}}}]}
    assert cells(pod(st, spec))[2] == "Init:0/1"
    st = {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
    assert cells(pod(st, spec))[2] == "Init:Error"
    st = {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    assert cells(pod(st, spec))[2] == "Init:CrashLoopBackOff"


def test_terminating_pod():
    st = {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True, "state": {"running": {}}}]}
    assert cells(pod(st, meta={"deletionTimestamp": ts(timedelta(0))}))[2] == "Terminating"


def test_readiness_gates():
    st = {"phase": "Running", "conditions": [{"type": "g1", "status": "True"}]}
    c = cells(pod(st, {"readinessGates": [{"conditionType": "g1"}, {"conditionType": "g2"}]}))
    assert c[8] == "1/2"


def test_service_row():
    svc = {"metadata": {"name": "s", "creationTimestamp": ts(timedelta(minutes=3, seconds=2))},
           "spec": {"type": "NodePort", "clusterIPs": ["10.96.0.10"], "selector": {"b": "2", "a": "1"},
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}}
    assert cells(svc, "services") == ["s", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP", "3m2s", "a=1,b=2"]
    lb = {"metadata": {"name": "l"}, "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.2"]}}
    assert cells(lb, "services")[3:5] == ["<pending>", "<none>"]


def test_node_row():
    node = {"metadata": {"name": "n", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "False"}], "nodeInfo": {"kubeletVersion": "v1.33.0"},
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}
    c = cells(node, "nodes")
    assert c[:3] == ["n", "NotReady,SchedulingDisabled", "control-plane"]
    assert c[4:7] == ["v1.33.0", "10.0.0.1", "<none>"]


def test_simple_kinds():
    meta = {"name": "x", "creationTimestamp": ts(timedelta(days=2, hours=3))}
    assert cells({"metadata": meta, "data": {"a": "1"}, "binaryData": {"b": ""}}, "configmaps") == ["x", 2, "2d3h"]
    assert cells({"metadata": meta, "type": "Opaque", "data": {"a": "MQ=="}}, "secrets") == ["x", "Opaque", 1, "2d3h"]
    assert cells({"metadata": meta, "status": {"phase": "Active"}}, "namespaces") == ["x", "Active", "2d3h"]
    assert cells({"metadata": meta, "spec": {"holderIdentity": "h"}}, "leases", "coordination.k8s.io") == ["x", "h", "2d3h"]


def test_endpoints_and_slices():
    ep = {"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(5)],
                                                  "ports": [{"port": 80}]}]}
    assert cells(ep, "endpoints")[1] == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 2 more..."
    sl = {"metadata": {"name": "s"}, "addressType": "IPv4", "ports": [{"port": 80}],
          "endpoints": [{"addresses": ["10.0.0.1"]}]}
    assert cells(sl, "endpointslices", "discovery.k8s.io")[1:4] == ["IPv4", "80", "10.0.0.1"]


def test_event_row_core_and_events_api():
    ev = {"metadata": {"name": "e1"}, "type": "Normal", "reason": "Started", "message": " hi ",
          "involvedObject": {"kind": "Pod", "name": "p"}, "source": {"component": "kubelet", "host": "n1"},
          "firstTimestamp": ts(timedelta(seconds=30)), "lastTimestamp": ts(timedelta(seconds=10)), "count": 3}
    assert cells(ev, "events") == ["10s", "Normal", "Started", "pod/p", "", "kubelet, n1", "hi", "30s", 3, "e1"]
    new = {"apiVersion": "events.k8s.io/v1", "metadata": {"name": "e2"}, "type": "Warning", "reason": "R",
           "note": "n", "regarding": {"kind": "Node", "name": "x"}, "eventTime": ts(timedelta(seconds=4)),
           "reportingController": "ctl"}
    assert cells(new, "events", "events.k8s.io") == ["4s", "Warning", "R", "node/x", "", "ctl", "n", "4s", 1, "e2"]


def test_quota_and_rc():
    q = {"metadata": {"name": "q"}, "status": {"hard": {"pods": "10", "limits.cpu": "2", "requests.cpu": "1"},
                                              "used": {"pods": "1"}}}
    assert cells(q, "resourcequotas")[2:] == ["pods: 1/10, requests.cpu: 0/1", "limits.cpu: 0/2"]
    rc = {"metadata": {"name": "r"}, "spec": {"replicas": 3, "selector": {"app": "a"},
                                             "template": {"spec": {"containers": [{"name": "c", "image": "img"}]}}},
          "status": {"replicas": 2, "readyReplicas": 1}}
    assert cells(rc, "replicationcontrollers")[1:4] == [3, 2, 1]
    assert cells(rc, "replicationcontrollers")[5:] == ["c", "img", "app=a"]


def test_unknown_kind_default_table():
    r = load().lookup("authentication.k8s.io", "v1", "tokenreviews")
    assert [c["name"] for c in strategy_for(r).columns()] == ["Name", "Created At"]
