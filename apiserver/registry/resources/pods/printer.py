"""The pod table: READY, STATUS, RESTARTS as kubectl shows them on a real cluster.

STATUS is not a stored field: it is derived from the phase, the init and app
container states and the deletion timestamp, in the same order of precedence
as upstream's pod printer, so `Init:0/1`, `CrashLoopBackOff`, `Completed` and
`Terminating` appear exactly when a real cluster would show them.
"""
from __future__ import annotations

from datetime import datetime

from apiserver.registry.printing.columns import CORE, age_column, col, name_column
from apiserver.registry.printing.humanize import age, doc, parse_time

_NODE_UNREACHABLE_REASON = "NodeLost"


def columns() -> list[dict]:
    return [
        name_column(),
        col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        col("Status", "The aggregate status of the containers in this pod."),
        col("Restarts", "The number of times the containers in this pod have been restarted and when the last "
                        "container in this pod has restarted."),
        age_column(),
        col("IP", doc(CORE + "PodStatus", "podIP"), priority=1),
        col("Node", doc(CORE + "PodSpec", "nodeName"), priority=1),
        col("Nominated Node", doc(CORE + "PodStatus", "nominatedNodeName"), priority=1),
        col("Readiness Gates", doc(CORE + "PodSpec", "readinessGates"), priority=1),
    ]


def _restartable(container: dict | None) -> bool:
    """A sidecar: an init container with restartPolicy Always keeps running."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(conditions: list, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True" for c in conditions)


def _later(current: datetime | None, state: dict) -> datetime | None:
    """The newer of `current` and the finish time of a last termination state."""
    term = (state.get("lastState") or {}).get("terminated")
    if not term:
        return current
    t = parse_time(term.get("finishedAt"))
    if t is None:
        return current
    return t if current is None or t > current else current


def status_cells(pod: dict, now: datetime) -> tuple[str, str, str]:
    """(READY, STATUS, RESTARTS) for one pod."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    conditions = status.get("conditions") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    n_init = len(spec.get("initContainers") or [])

    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    reason = status.get("reason") or status.get("phase") or ""
    for c in conditions:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, cs)
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, cs)
        state = cs.get("state") or {}
        term = state.get("terminated")
        waiting = state.get("waiting")
        if term and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode') or 0}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, cs)
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode') or 0}"
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == _NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({age(last_restart.isoformat(), now)} ago)"
    return f"{ready}/{total}", reason, restarts_cell


def row(pod: dict, now: datetime) -> list:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    ready, reason, restarts = status_cells(pod, now)
    ips = status.get("podIPs") or []
    pod_ip = (ips[0].get("ip") if ips else "") or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {}
        for c in status.get("conditions") or []:
            conds.setdefault(c.get("type"), c.get("status"))
        true = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{true}/{len(gates)}"
    return [
        meta.get("name", ""), ready, reason, restarts, age(meta.get("creationTimestamp"), now),
        pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_cell,
    ]
