"""Build a PodStatus shaped as upstream's kubelet shapes it, from what the runtime
reports plus what the worker knows (waiting reasons, probe results). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Attempt:
    """One runtime container: one attempt at running a Kubernetes container."""
    name: str
    attempt: int
    id: str
    state: str  # running | exited | created | ...
    exit_code: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    reason: str = ""  # for exited: Completed / Error / OOMKilled
    message: str = ""
    image: str = ""
    image_id: str = ""
    kind: str = "app"
    spec_hash: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def exited(self) -> bool:
        return self.state in ("exited", "stopped", "dead")

    @property
    def succeeded(self) -> bool:
        return self.exited and self.exit_code == 0


@dataclass
class ContainerView:
    """Everything the status needs about one Kubernetes container."""
    name: str
    image: str
    latest: Attempt | None = None
    previous: Attempt | None = None
    waiting: tuple[str, str] | None = None  # (reason, message) set by the worker
    ready: bool = False
    started: bool = False


def terminated(a: Attempt) -> dict:
    t = {"exitCode": a.exit_code, "reason": a.reason or ("Completed" if a.exit_code == 0 else "Error"),
         "startedAt": a.started_at, "finishedAt": a.finished_at, "containerID": f"podman://{a.id}"}
    if a.message:
        t["message"] = a.message
    return {"terminated": {k: v for k, v in t.items() if v is not None}}


def container_status(v: ContainerView) -> dict:
    a = v.latest
    last: dict = {}
    if v.waiting is not None:
        state = {"waiting": {"reason": v.waiting[0], **({"message": v.waiting[1]} if v.waiting[1] else {})}}
        if a is not None and a.exited:
            last = terminated(a)
        elif v.previous is not None:
            last = terminated(v.previous)
    elif a is None or not (a.running or a.exited):
        state = {"waiting": {"reason": "ContainerCreating"}}
    elif a.running:
        state = {"running": {"startedAt": a.started_at}}
        if v.previous is not None:
            last = terminated(v.previous)
    else:
        state = terminated(a)
        if v.previous is not None:
            last = terminated(v.previous)
    out = {
        "name": v.name,
        "state": state,
        "lastState": last,
        "ready": bool(v.ready and a is not None and a.running and v.waiting is None),
        "restartCount": a.attempt if a else 0,
        "image": v.image,
        "imageID": (a.image_id if a and a.image_id else ""),
        "started": bool(v.started and a is not None and a.running and v.waiting is None),
    }
    if a is not None and (a.running or a.exited) and v.waiting is None:
        out["containerID"] = f"podman://{a.id}"
    elif a is not None and v.waiting is not None and a.exited:
        out["containerID"] = f"podman://{a.id}"
    return out


def init_done(inits: list[ContainerView]) -> bool:
    return all(v.latest is not None and v.latest.succeeded for v in inits)


def phase(restart_policy: str, inits: list[ContainerView], apps: list[ContainerView]) -> str:
    """Upstream's getPhase, in short: Pending until every container has started,
    Running while any runs or will be restarted, else Succeeded/Failed."""
    if not init_done(inits):
        for v in inits:
            if v.latest is not None and v.latest.exited and not v.latest.succeeded and restart_policy == "Never":
                return "Failed"
        return "Pending"
    running = stopped = succeeded = failed = waiting = 0
    for v in apps:
        a = v.latest
        if a is None or not (a.running or a.exited):
            waiting += 1
        elif a.running and v.waiting is None:
            running += 1
        elif a.exited or v.waiting is not None:
            stopped += 1
            if a.succeeded:
                succeeded += 1
            else:
                failed += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if restart_policy == "Always":
        return "Running"
    if restart_policy == "OnFailure":
        return "Running" if failed else "Succeeded"
    return "Failed" if failed else "Succeeded"


def _cond(ctype: str, ok: bool, reason: str = "", message: str = "") -> dict:
    c = {"type": ctype, "status": "True" if ok else "False"}
    if not ok and reason:
        c["reason"] = reason
    if not ok and message:
        c["message"] = message
    return c


def conditions(sandbox_ready: bool, inits: list[ContainerView], apps: list[ContainerView],
               pod_phase: str) -> list[dict]:
    initialized = init_done(inits) or pod_phase in ("Running", "Succeeded") and all(
        v.latest is not None for v in inits)
    not_init = [v.name for v in inits if not (v.latest is not None and v.latest.succeeded)]
    unready = [v.name for v in apps if not (v.ready and v.latest is not None and v.latest.running
                                               and v.waiting is None)]
    done = pod_phase in ("Succeeded", "Failed")
    cr_reason = "PodCompleted" if done else "ContainersNotReady"
    return [
        _cond("PodReadyToStartContainers", sandbox_ready),
        _cond("Initialized", initialized, "PodCompleted" if done else "ContainersNotInitialized",
              "" if done else f"containers with incomplete status: [{' '.join(not_init)}]"),
        _cond("Ready", not unready, cr_reason, "" if done else f"containers with unready status: [{' '.join(unready)}]"),
        _cond("ContainersReady", not unready, cr_reason,
              "" if done else f"containers with unready status: [{' '.join(unready)}]"),
    ]


def with_times(new: list[dict], old: list[dict], now: str) -> list[dict]:
    """lastTransitionTime moves only when a condition's status changes."""
    before = {c.get("type"): c for c in old or []}
    out = []
    for c in new:
        prev = before.get(c["type"])
        c = dict(c)
        c["lastProbeTime"] = None
        if prev and prev.get("status") == c["status"] and prev.get("lastTransitionTime"):
            c["lastTransitionTime"] = prev["lastTransitionTime"]
        else:
            c["lastTransitionTime"] = now
        out.append(c)
    sched = before.get("PodScheduled") or {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                            "lastTransitionTime": now}
    return [sched] + out


@dataclass
class PodView:
    restart_policy: str
    inits: list[ContainerView] = field(default_factory=list)
    apps: list[ContainerView] = field(default_factory=list)
    sandbox_ready: bool = False
    pod_ip: str = ""
    host_ip: str = ""
    start_time: str = ""
    qos: str = "BestEffort"
    reason: str = ""
    message: str = ""
    phase_override: str = ""  # activeDeadlineSeconds: Failed/DeadlineExceeded; eviction: Failed/Evicted
    extra_conditions: list[dict] = field(default_factory=list)  # e.g. DisruptionTarget on eviction


def pod_status(view: PodView, old_status: dict, now: str) -> dict:
    ph = view.phase_override or phase(view.restart_policy, view.inits, view.apps)
    st: dict = {
        "phase": ph,
        "conditions": with_times(conditions(view.sandbox_ready, view.inits, view.apps, ph) + view.extra_conditions,
                                 old_status.get("conditions") or [], now),
        "hostIP": view.host_ip,
        "hostIPs": [{"ip": view.host_ip}] if view.host_ip else [],
        "startTime": view.start_time or old_status.get("startTime") or now,
        "qosClass": view.qos,
        "containerStatuses": [container_status(v) for v in view.apps],
    }
    if view.pod_ip:
        st["podIP"] = view.pod_ip
        st["podIPs"] = [{"ip": view.pod_ip}]
    if view.inits:
        st["initContainerStatuses"] = [container_status(v) for v in view.inits]
    if view.reason:
        st["reason"] = view.reason
    if view.message:
        st["message"] = view.message
    return st
