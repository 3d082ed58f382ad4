from nodeagent.pods.backoff import BackOff
from nodeagent.pods.status import Attempt, ContainerView, PodView, container_status, phase, pod_status


def run(name="c", n=0):
    return Attempt(name=name, attempt=n, id=f"id{n}", state="running", started_at="2024-01-01T00:00:00Z")


def dead(name="c", n=0, code=1):
    return Attempt(name=name, attempt=n, id=f"id{n}", state="exited", exit_code=code,
                   reason="Completed" if code == 0 else "Error",
                   started_at="2024-01-01T00:00:00Z", finished_at="2024-01-01T00:00:01Z")


def test_phase():
    assert phase("Always", [], [ContainerView("c", "i")]) == "Pending"
    assert phase("Always", [], [ContainerView("c", "i", latest=run())]) == "Running"
    assert phase("Never", [], [ContainerView("c", "i", latest=dead(code=0))]) == "Succeeded"
    assert phase("Never", [], [ContainerView("c", "i", latest=dead(code=2))]) == "Failed"
    assert phase("OnFailure", [], [ContainerView("c", "i", latest=dead(code=2))]) == "Running"
    assert phase("Always", [], [ContainerView("c", "i", latest=dead(), waiting=("CrashLoopBackOff", ""))]) == "Running"
    assert phase("Always", [ContainerView("init", "i", latest=run("init"))], [ContainerView("c", "i")]) == "Pending"
    assert phase("Never", [ContainerView("init", "i", latest=dead("init"))], [ContainerView("c", "i")]) == "Failed"


def test_crashloop_container_status():
    v = ContainerView("c", "busybox", latest=dead(n=3, code=1), waiting=("CrashLoopBackOff", "back-off 40s"))
    cs = container_status(v)
    assert cs["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}
    assert cs["lastState"]["terminated"]["exitCode"] == 1 and cs["restartCount"] == 3
    assert cs["ready"] is False and cs["containerID"] == "podman://id3"


def test_running_after_restart_keeps_last_state():
    v = ContainerView("c", "i", latest=run(n=1), previous=dead(n=0, code=137), ready=True, started=True)
    cs = container_status(v)
    assert "running" in cs["state"] and cs["lastState"]["terminated"]["exitCode"] == 137 and cs["ready"]


def test_pod_status_conditions_keep_transition_times():
    view = PodView("Always", apps=[ContainerView("c", "i", latest=run(), ready=True, started=True)],
                   sandbox_ready=True, pod_ip="10.88.0.2", host_ip="10.0.0.1", start_time="t0")
    first = pod_status(view, {}, "T1")
    again = pod_status(view, first, "T2")
    assert first == again
    types = [c["type"] for c in first["conditions"]]
    assert types == ["PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]
    assert all(c["status"] == "True" for c in first["conditions"])
    assert first["podIPs"] == [{"ip": "10.88.0.2"}] and first["phase"] == "Running"


def test_unready_condition_message():
    view = PodView("Always", apps=[ContainerView("a", "i", latest=run("a")), ContainerView("b", "i")])
    st = pod_status(view, {}, "T")
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [a b]"


def test_backoff_doubles_to_cap():
    b = BackOff()
    t = 1000.0
    delays = []
    for _ in range(8):
        b.record_restart(t)
        delays.append(b.delay)
        t += 1
    assert delays[:6] == [10, 20, 40, 80, 160, 300] and delays[-1] == 300
    assert b.in_backoff(t) and not b.in_backoff(t + 300)
