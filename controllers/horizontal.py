"""The HorizontalPodAutoscaler controller (autoscaling/v2, Resource and ContainerResource metrics).

Every sync period (15 s, --horizontal-pod-autoscaler-sync-period) each HPA:
reads its target's scale subresource (replicas, selector), the selected pods'
requests and their usage from metrics.k8s.io, works out the replicas
(hpa_algorithm: tolerance, stabilization windows, behavior policies), writes the
scale when it changes, and reports status (current metrics, desired replicas,
conditions). Pods that are not running, are being deleted, or have no metrics
yet are left out of the average, a simplification of upstream's missing-pod rules.
"""
from __future__ import annotations

import logging
import time

from kubeclient import ApiError, split_key
from kubeclient.resources import DEPLOYMENTS, PODS, REPLICASETS, REPLICATIONCONTROLLERS, STATEFULSETS, Resource
from kubeclient.timestamps import now as format_time

from . import hpa_algorithm as A
from .hpa_metrics import Usage, ratio_of, unsupported

from .base import Controller

log = logging.getLogger(__name__)

HPAS = Resource("autoscaling", "v2", "horizontalpodautoscalers")
_TARGETS = {"Deployment": DEPLOYMENTS, "ReplicaSet": REPLICASETS, "StatefulSet": STATEFULSETS,
            "ReplicationController": REPLICATIONCONTROLLERS}


def _condition(kind: str, ok: bool, reason: str, message: str, old: list[dict]) -> dict:
    status = "True" if ok else "False"
    prev = next((c for c in old if c.get("type") == kind), None)
    since = prev["lastTransitionTime"] if prev and prev.get("status") == status else format_time()
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": since}


class HorizontalController(Controller):
    name = "horizontalpodautoscaling"
    workers = 2

    def setup(self) -> None:
        self.period = float(self.ctx.options.extra.get("hpa_sync_period", 15.0))
        self.hpas = self.ctx.informers.informer(HPAS)
        # Our own status writes come back as updates: only a changed spec is looked at
        # at once; otherwise each HPA is evaluated once per period (add_after in sync).
        def updated(old: dict, new: dict) -> None:
            if old.get("spec") != new.get("spec"):
                self.enqueue(new)
        self.hpas.add_handler(self.enqueue, updated, self.enqueue)
        self.recommendations: dict[str, list[tuple[float, int]]] = {}
        self.events: dict[str, list[A.Event]] = {}

    async def _usage(self, ns: str, selector: str) -> Usage:
        got = await self.client.get_path(f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods",
                                         labelSelector=selector)
        return Usage(got.get("items") or [])

    async def sync(self, key: str) -> None:
        hpa = self.hpas.get(key)
        if hpa is None:
            self.recommendations.pop(key, None)
            self.events.pop(key, None)
            return
        self.queue.add_after(key, self.period)
        ns, name = split_key(key)
        spec, status = hpa.get("spec") or {}, dict(hpa.get("status") or {})
        ref = spec.get("scaleTargetRef") or {}
        target_res = _TARGETS.get(ref.get("kind"))
        old_conditions = status.get("conditions") or []
        conditions = []
        if target_res is None:
            conditions.append(_condition("AbleToScale", False, "FailedGetScale",
                                         f"the HPA controller cannot scale a {ref.get('kind')}", old_conditions))
            return await self._write_status(hpa, status, conditions)
        scale = await self.client.get(target_res, ref.get("name"), ns, subresource="scale")
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        selector = (scale.get("status") or {}).get("selector") or ""
        status["currentReplicas"] = int((scale.get("status") or {}).get("replicas") or 0)
        conditions.append(_condition("AbleToScale", True, "SucceededGetScale",
                                     "the HPA controller was able to get the target's current scale",
                                     old_conditions))
        if current == 0:
            status["desiredReplicas"] = 0
            conditions.append(_condition("ScalingActive", False, "ScalingDisabled",
                                         "scaling is disabled since the replica count of the target is zero",
                                         old_conditions))
            return await self._write_status(hpa, status, conditions)
        pods = [p for p in (await self.client.list(PODS, ns, label_selector=selector)).get("items") or []
                if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        try:
            usage = await self._usage(ns, selector)
        except ApiError as e:
            usage = Usage([])
            log.debug("hpa %s: no metrics: %s", key, e)
        proposals, current_metrics, failed = [], [], None
        for metric in spec.get("metrics") or []:
            failed = failed or unsupported(metric)
            got = ratio_of(metric, pods, usage)
            if got is None:
                continue
            ratio, counted, entry = got
            proposals.append(A.proposal(current, ratio, counted))
            current_metrics.append(entry)
        if not proposals:
            reason, message = failed or ("FailedGetResourceMetric", "the HPA was unable to compute the replica "
                                         "count: no metrics returned from resource metrics API")
            conditions.append(_condition("ScalingActive", False, reason, message, old_conditions))
            status["desiredReplicas"] = current
            return await self._write_status(hpa, status, conditions)
        conditions.append(_condition("ScalingActive", True, "ValidMetricFound",
                                     "the HPA was able to successfully calculate a replica count", old_conditions))
        desired = self._decide(key, spec, current, max(proposals))
        status["currentMetrics"] = current_metrics
        status["desiredReplicas"] = desired
        if desired != current:
            scale["spec"]["replicas"] = desired
            await self.client.update(target_res, scale, ns, subresource="scale")
            self.events.setdefault(key, []).append(A.Event(time.monotonic(), desired - current))
            status["lastScaleTime"] = format_time()
            self.ctx.recorder("horizontal-pod-autoscaler").event(
                hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: "
                f"{'above' if desired > current else 'All metrics below'} target")
        await self._write_status(hpa, status, conditions)

    def _decide(self, key: str, spec: dict, current: int, proposed: int) -> int:
        now = time.monotonic()
        behavior = spec.get("behavior") or {}
        up = {**A.DEFAULT_SCALE_UP, **(behavior.get("scaleUp") or {})}
        down = {**A.DEFAULT_SCALE_DOWN, **(behavior.get("scaleDown") or {})}
        min_r, max_r = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
        proposed = A.clamp(proposed, min_r, max_r)
        history = [r for r in self.recommendations.get(key, [])
                   if now - r[0] <= max(up["stabilizationWindowSeconds"], down["stabilizationWindowSeconds"])]
        history.append((now, proposed))
        self.recommendations[key] = history
        stable = A.stabilized(history, now, proposed, current, float(up["stabilizationWindowSeconds"]),
                              float(down["stabilizationWindowSeconds"]))
        events = [e for e in self.events.get(key, []) if now - e.at <= 1800]
        self.events[key] = events
        rules = up if stable > current else down
        return A.clamp(A.limited(current, stable, rules, events, now), min_r, max_r)

    async def _write_status(self, hpa: dict, status: dict, conditions: list[dict]) -> None:
        status["conditions"] = conditions
        if status == hpa.get("status"):
            return
        body = {**hpa, "status": status}
        try:
            await self.client.update_status(HPAS, body, hpa["metadata"]["namespace"])
        except ApiError as e:
            if not (e.not_found or e.code == 409):
                raise
