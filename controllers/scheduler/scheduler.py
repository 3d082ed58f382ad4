"""The scheduling loop: one pod at a time through filters and scores (so each
decision sees the previous one), then binding in the background, as upstream
binds asynchronously. A pod that fits nowhere gets PodScheduled=False and a
FailedScheduling event, and is retried with back-off (1 s doubling to 10 s) and
whenever the cluster changes in a way that may make room (node added or changed,
a pod deleted or finished).
"""
from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
import weakref

import orjson

from kubeclient import ApiError, ControllerRateLimiter, ItemBackoff, TokenBucket, WorkQueue, metrics, split_key, \
    timestamps
from kubeclient.pipelined import PipelinedWriter, error_from
from kubeclient.resources import NODES, PODDISRUPTIONBUDGETS, PODS

from ..base import Controller
from ..volumes import PVCS, PVS, STORAGECLASSES
from ..volumes.matching import SELECTED_NODE
from .interpod import InterPodCheck
from .messages import fit_error_message
from .nodeinfo import ClusterState, PodUsage, pod_nonzero_requests, pod_requests
from .predicates import PodFit
from .prebind import ClaimWaiter
from .preemption import pick_node, priority_of, victims_on
from .sampling import feasible_nodes_to_find, rotated
from .scoring import score_nodes
from .topologyspread import TopologySpreadCheck
from .volumebinding import VolumeCheck

log = logging.getLogger(__name__)
SCHEDULER_NAME = "default-scheduler"


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def wants_scheduling(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName") and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
            and not pod["metadata"].get("deletionTimestamp") and not is_terminal(pod))


_SCHEDULERS: weakref.WeakSet = weakref.WeakSet()
_ATTEMPTS = metrics.counter("scheduler_schedule_attempts_total",
                            "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could "
                            "not be scheduled, while 'error' means an internal scheduler problem.",
                            ("result", "profile"))
_ATTEMPT_DURATION = metrics.histogram("scheduler_scheduling_attempt_duration_seconds",
                                      "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
                                      ("result", "profile"), tuple(0.001 * 2 ** i for i in range(15)))
metrics.gauge("scheduler_pending_pods", "Number of pending pods, by the queue type. 'active' means number of pods "
              "in activeQ; 'unschedulable' means number of pods in unschedulablePods.", ("queue",),
              read=lambda: {k: v for s in list(_SCHEDULERS) for k, v in s.pending().items()})


def _attempted(result: str, started: float) -> None:
    key = (result, SCHEDULER_NAME)
    _ATTEMPTS.inc(key)
    _ATTEMPT_DURATION.observe(key, time.perf_counter() - started)


class Scheduler(Controller):
    name = "scheduler"
    workers = 1  # decisions are sequential; binds run concurrently
    max_binds_in_flight = 64

    def setup(self) -> None:
        # unschedulable pods back off 1 s .. 10 s, with no overall rate cap
        self.queue = WorkQueue(ControllerRateLimiter(ItemBackoff(1.0, 10.0), TokenBucket(1e9, 10**9)), "scheduler")
        self.state = ClusterState()
        self._next_start = 0  # where the next decision starts filtering (sampling.py)
        self.recorder = self.ctx.recorder(SCHEDULER_NAME)
        self.unschedulable: set[str] = set()
        self.nominated: dict[str, tuple[str, dict]] = {}  # pod key -> (node it preempted on, pod)
        self.bound = 0  # a metric
        _SCHEDULERS.add(self)
        self._binds = asyncio.Semaphore(self.max_binds_in_flight)
        self._bind_tasks: set[asyncio.Task] = set()
        self._pipe: PipelinedWriter | None = None  # binds (_post_binding)
        self._pipe_token: str | None = None  # the bearer token it sends
        self.pods = self.ctx.informers.informer(PODS)
        self.nodes = self.ctx.informers.informer(NODES)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.claims = self.ctx.informers.informer(PVCS)
        self.volumes = self.ctx.informers.informer(PVS)
        self.classes = self.ctx.informers.informer(STORAGECLASSES)
        self.pdbs = self.ctx.informers.informer(PODDISRUPTIONBUDGETS)
        # a claim created or bound may let a waiting pod in
        self.claims.add_handler(lambda c: self._retry_unschedulable(), lambda o, n: self._retry_unschedulable())
        self.claim_waiter = ClaimWaiter(self.claims)  # pods whose claims are being bound (PreBind)
        self.claims.add_handler(self.claim_waiter.changed, lambda o, n: self.claim_waiter.changed(n),
                                self.claim_waiter.changed)

    def pending(self) -> dict[tuple, int]:
        """scheduler_pending_pods: waiting for a decision, and found not to fit (backing off)."""
        return {("active",): len(self.queue), ("unschedulable",): len(self.unschedulable)}

    # --- keeping the cluster picture current -------------------------------------------
    def _account(self, pod: dict) -> None:
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not is_terminal(pod):
            self.state.add_pod(key, pod, node)
        elif node:
            self.state.remove_pod(key)
            self._retry_unschedulable()
        elif wants_scheduling(pod):
            self.queue.add(key)

    def _pod_added(self, pod: dict) -> None:
        self._account(pod)

    def _pod_updated(self, old: dict, new: dict) -> None:
        key = f"{new['metadata']['namespace']}/{new['metadata']['name']}"
        if old is new:  # resync: only pending pods need another look
            if wants_scheduling(new):
                self.queue.add(key)
            return
        if key in self.unschedulable and old.get("spec") == new.get("spec") and \
                old["metadata"].get("labels") == new["metadata"].get("labels"):
            return  # our own status write: nothing that changes where it fits; back-off retries it
        self._account(new)

    def _pod_deleted(self, pod: dict) -> None:
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        self.unschedulable.discard(key)
        self.nominated.pop(key, None)
        if key in self.state.usage:
            self.state.remove_pod(key)
            self._retry_unschedulable()

    def _node_added(self, node: dict) -> None:
        self.state.set_node(node)
        self._retry_unschedulable()

    def _node_updated(self, old: dict, new: dict) -> None:
        self.state.set_node(new)
        if old is not new and (old.get("spec") != new.get("spec") or old["metadata"].get("labels") != new[
                "metadata"].get("labels") or _ready(old) != _ready(new) or
                (old.get("status") or {}).get("allocatable") != (new.get("status") or {}).get("allocatable")):
            self._retry_unschedulable()

    def _node_deleted(self, node: dict) -> None:
        self.state.remove_node(node["metadata"]["name"])

    def _retry_unschedulable(self) -> None:
        for key in self.unschedulable:
            self.queue.add(key)
        self.unschedulable.clear()

    # --- one scheduling decision --------------------------------------------------------
    def decide(self, pod: dict, volumes: VolumeCheck | None = None) -> tuple[str | None, dict]:
        """(chosen node or None, failures by node). Reads the cluster state; only moves where the
        next search starts. Failures cover every node when none fits."""
        requests = pod_requests(pod)
        fits, failures = [], {}
        key = f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}"
        extra = [c for c in (InterPodCheck(pod, self.state, key), TopologySpreadCheck(pod, self.state, key),
                             volumes) if c is not None and c.active]
        names, nodes, nominated = self.state.node_names(), self.state.nodes, self.nominated
        enough, looked = feasible_nodes_to_find(len(names)), 0
        check = PodFit(pod, requests, extra).check
        for name in rotated(names, self._next_start):
            looked += 1
            info = nodes[name]
            if nominated:
                info = self._with_nominated(key, pod, name, info)
            failed = check(info)
            if failed:
                failures[name] = failed
            else:
                fits.append(info)
                if len(fits) >= enough:
                    break
        self._next_start = (self._next_start + looked) % max(len(names), 1)
        if not fits:
            return None, failures
        cpu, mem = pod_nonzero_requests(pod)
        scores = score_nodes(pod, fits, cpu, mem)
        best = max(scores)
        # ties are broken at random so equal nodes share the load
        chosen = random.choice([i for i, s in zip(fits, scores) if s == best])
        return chosen.node["metadata"]["name"], failures

    async def sync(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or not wants_scheduling(pod) or key in self.state.usage:
            return
        started = time.perf_counter()
        volumes = VolumeCheck(pod, self.claims, self.volumes, self.classes)
        node, failures = (None, {}) if volumes.prefilter_error else self.decide(pod, volumes)
        if node is None:
            self.unschedulable.add(key)
            preempted = not volumes.prefilter_error and await self._preempt(pod, failures)
            message = fit_error_message(len(self.state.nodes), failures, volumes.prefilter_error, preempted)
            await self._mark_unschedulable(pod, message)
            self.queue.add_rate_limited(key)
            _attempted("unschedulable", started)
            return
        self.unschedulable.discard(key)
        self.nominated.pop(key, None)
        await self._select_node_for_claims(volumes, node)
        self.state.add_pod(key, pod, node)  # assume it: the next decision must see it
        delayed = [f"{c['metadata']['namespace']}/{c['metadata']['name']}" for c in volumes.delayed]
        task = asyncio.ensure_future(self._bind(key, pod, node, started, delayed))
        self._bind_tasks.add(task)
        task.add_done_callback(self._bind_tasks.discard)
        # A decision awaits nothing, and the work queue hands out the next key without
        # suspending: with a backlog, every decision used to be made before the first
        # bind was sent (and before any watch event was read). Let the bind go now.
        await asyncio.sleep(0)

    def _with_nominated(self, key: str, pod: dict, node: str, info):
        """The node as a pod of this priority sees it: room taken by victims' evictions is
        kept for the pods that preempted there, when they matter as much or more."""
        waiting = [p for k, (n, p) in self.nominated.items()
                   if n == node and k != key and priority_of(p) >= priority_of(pod)]
        if not waiting:
            return info
        info = copy.deepcopy(info)
        for p in waiting:
            info.add(PodUsage(node, pod_requests(p), pod_nonzero_requests(p), []))
        return info

    async def _preempt(self, pod: dict, failures: dict) -> bool:
        """Evict lower-priority pods from the node where that helps least; the pod is
        nominated there (status.nominatedNodeName) and retried once they are gone."""
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated and any(usage.node == nominated and (self.pods.get(k) or {}).get("metadata", {}).get(
                "deletionTimestamp") for k, usage in self.state.usage.items()):
            return True  # its victims are still going: wait for them rather than evict more
        requests = pod_requests(pod)
        placed: dict[str, list] = {}
        for k, usage in self.state.usage.items():
            # pods already terminating are victims that cost nothing more (upstream counts
            # them); leaving them out would take more live pods than needed
            other = self.pods.get(k)
            if other is not None:
                placed.setdefault(usage.node, []).append((k, other, usage))
        candidates = {}
        pdbs = self.pdbs.list()
        for name, (_reasons, resolvable) in failures.items():
            info = self.state.nodes.get(name)
            if resolvable and info is not None:
                found = victims_on(pod, info, placed.get(name, []), requests, pdbs)
                if found and found[0]:
                    candidates[name] = found
        node = pick_node(candidates)
        if node is None:
            return False
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.nominated[f"{ns}/{name}"] = (node, pod)
        for vkey, victim in candidates[node][0]:
            await self._evict_victim(vkey, victim, pod, node)
        try:
            await self.client.patch(PODS, name, {"status": {"nominatedNodeName": node}}, ns, subresource="status")
        except ApiError as e:
            if not e.not_found:
                raise
        return True

    async def _evict_victim(self, vkey: str, victim: dict, pod: dict, node: str) -> None:
        """Say why the victim goes (a DisruptionTarget condition, an event), then delete it."""
        vns, vname = split_key(vkey)
        if victim["metadata"].get("deletionTimestamp"):
            return  # already going: no second delete (upstream skips the call too)
        self.recorder.event(victim, "Normal", "Preempted",
                            f"Preempted by pod {pod['metadata'].get('uid')} on node {node}")
        cond = {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                "message": f"{SCHEDULER_NAME}: preempting to accommodate a higher priority pod",
                "lastTransitionTime": timestamps.now()}
        try:
            await self.client.patch(PODS, vname, {"status": {"conditions": [cond]}}, vns,
                                    patch_type="strategic", subresource="status")
        except ApiError as e:
            if e.not_found:
                return
            log.debug("could not mark %s as a disruption target: %s", vkey, e)
        try:
            await self.client.delete(PODS, vname, vns)
        except ApiError as e:
            if not e.not_found:
                raise

    async def _select_node_for_claims(self, volumes: VolumeCheck, node: str) -> None:
        """Unbound WaitForFirstConsumer claims learn the chosen node (the binder or
        provisioner acts on it; the pod is bound once they are, see prebind.py)."""
        for claim in volumes.delayed:
            if (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE) == node:
                continue
            m = claim["metadata"]
            try:
                await self.client.patch(PVCS, m["name"], {"metadata": {"annotations": {SELECTED_NODE: node}}},
                                        m["namespace"])
            except ApiError as e:
                if not e.not_found:
                    raise

    async def _bind(self, key: str, pod: dict, node: str, started: float, claims: list[str] = ()) -> None:
        ns, name = split_key(key)
        if claims:  # PreBind: the pod goes to its node once its claims are bound there
            problem = await self.claim_waiter.wait_bound(list(claims))
            if problem is not None:
                self.state.remove_pod(key)
                _attempted("error", started)
                self.recorder.event(pod, "Warning", "FailedScheduling",
                                    f'running PreBind plugin "VolumeBinding": binding volumes: {problem}')
                self.queue.add_rate_limited(key)
                return
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": name, "namespace": ns, "uid": pod["metadata"].get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        async with self._binds:
            try:
                await self._post_binding(ns, name, binding)
            except ApiError as e:
                self.state.remove_pod(key)  # forget the assumption
                _attempted("error", started)
                if e.not_found:
                    return
                log.warning("binding %s to %s failed: %s", key, node, e)
                self.recorder.event(pod, "Warning", "FailedScheduling", f"Binding rejected: {e.message}")
                self.queue.add_rate_limited(key)
                return
        self.bound += 1
        _attempted("scheduled", started)
        self.queue.forget(key)
        self.recorder.event(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}")

    async def _post_binding(self, ns: str, name: str, binding: dict) -> None:
        """POST pods/<name>/binding down a pipelined connection: a bind is one small write
        whose answer is only its status, and through httpx it cost the scheduler about as
        much CPU as the decision itself."""
        if self._pipe is None:
            self._pipe = PipelinedWriter(self.client.config, connections=4, user_agent="pocketkube-scheduler")
        elif self.client.config.token and self._pipe_token != self.client.config.token:
            self._pipe.use_token(self.client.config.token)   # the client's token was refreshed
        self._pipe_token = self.client.config.token
        try:
            status, raw = await self._pipe.send("POST", PODS.path(ns, name, "binding"), orjson.dumps(binding))
        except ConnectionError as e:
            raise ApiError(503, "ServiceUnavailable", {"message": str(e)}) from None
        if status >= 400:
            raise error_from(status, raw)

    async def _mark_unschedulable(self, pod: dict, message: str) -> None:
        self.recorder.event(pod, "Warning", "FailedScheduling", message)
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable" and c.get("message") == message:
                return  # already says so
        cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                "lastProbeTime": None, "lastTransitionTime": timestamps.now()}
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        try:
            await self.client.patch(PODS, name, {"status": {"conditions": [cond]}}, ns,
                                    patch_type="strategic", subresource="status")
        except ApiError as e:
            if e.not_found:
                return
            if e.code not in (400, 415, 422):
                raise
            # no strategic merge here: read, replace the condition, write
            fresh = await self.client.get(PODS, name, ns)
            conds = [c for c in (fresh.get("status") or {}).get("conditions") or [] if c.get("type") != "PodScheduled"]
            fresh.setdefault("status", {})["conditions"] = conds + [cond]
            await self.client.update_status(PODS, fresh, ns)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            for t in list(self._bind_tasks):
                t.cancel()
            if self._pipe is not None:
                await self._pipe.close()


def _ready(node: dict) -> str | None:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status")
    return None
