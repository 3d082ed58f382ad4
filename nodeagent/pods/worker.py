"""One worker per pod: compare the PodSpec with the runtime, act, report status.

Level-triggered: every sync reads the runtime's containers of the pod afresh, so
a restarted agent (or a container that died meanwhile) needs no special path.
Wakes on pod updates, on runtime events for the pod, or after a short period.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import weakref

from kubeclient import ApiError, metrics, timestamps
from kubeclient.resources import PODS

from ..runtime import labels as L
from ..runtime import ordered, specgen
from ..runtime.podman import PodmanError
from . import spec as S
from . import volumes
from .attempts import from_list_entry, group
from .backoff import BackOff
from .context import AgentContext
from .probes import ProbeLoop
from .starter import field_path, run_hook, start_attempt
from .status import Attempt, ContainerView, PodView, pod_status

log = logging.getLogger(__name__)

_WORKERS: weakref.WeakSet = weakref.WeakSet()   # live pod workers, counted at scrape time


def _running(w: "PodWorker") -> bool:
    return not w.gone and (w.written or {}).get("phase") == "Running"


def _running_containers() -> dict:
    n = sum(1 for w in list(_WORKERS) if not w.gone
            for c in (w.written or {}).get("containerStatuses") or [] if "running" in (c.get("state") or {}))
    return {("running",): n}


metrics.gauge("kubelet_running_pods", "Number of pods that have a running pod sandbox",
              read=lambda: {(): sum(1 for w in list(_WORKERS) if _running(w))})
metrics.gauge("kubelet_running_containers", "Number of containers currently running", ("container_state",),
              read=_running_containers)
_START_DURATION = metrics.histogram(
    "kubelet_pod_start_duration_seconds",
    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run", (),
    (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600))

# The PLEG-like relist: upstream's kubelet relists every container of the node each
# second; here each pod worker relists its own pod's containers from Podman at every
# sync (woken by Podman's events, or RESYNC at the latest). These time that listing,
# and the gap between two listings of one pod, under the kubelet's names.
_RELIST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_RELIST_DURATION = metrics.histogram("kubelet_pleg_relist_duration_seconds",
                                     "Duration in seconds for relisting pods in PLEG.", (), _RELIST_BUCKETS)
_RELIST_INTERVAL = metrics.histogram("kubelet_pleg_relist_interval_seconds",
                                     "Interval in seconds between relisting in PLEG.", (), _RELIST_BUCKETS)

RESYNC = 5.0          # seconds between syncs when nothing wakes the worker
VOLUME_REFRESH = 5.0  # how often ConfigMap/Secret volumes are rewritten
SANDBOX_RECHECK = 30.0  # how often a known sandbox is inspected again


class PodWorker:
    def __init__(self, ctx: AgentContext, pod: dict):
        self.ctx = ctx
        self.pod = pod
        self.uid = pod["metadata"]["uid"]
        self.wake = asyncio.Event()
        self.gone = False
        self.finished = asyncio.Event()
        self.sandbox_id = ""
        self.sandbox_checked = 0.0
        self.adopt_checked = False   # a sandbox of an earlier agent was looked for
        self.fresh_sandbox = False   # made by this worker and not yet listed: it holds no containers
        self.relisted: float | None = None   # when this pod's containers were last listed
        self.pod_ip = ""
        self.volume_paths: dict[str, str] | None = None
        self.volumes_at = 0.0
        self.backoff: dict[str, BackOff] = {}
        self.pull_backoff: dict[str, BackOff] = {}
        self.waiting: dict[str, tuple[str, str]] = {}
        self.start_errors: dict[str, str] = {}
        self.runtime_handler: str | None = None  # the OCI runtime of the pod's RuntimeClass
        self.probes: dict[str, list[ProbeLoop]] = {}   # container id -> loops
        self.ready: dict[str, bool] = {}               # container id -> readiness
        self.started: dict[str, bool] = {}             # container id -> startup done
        self.unhealthy: set[str] = set()               # container ids to restart
        self.written: dict | None = None
        self.start_time = ""
        self.deadline_exceeded = False
        self.evicted = ""  # the node-pressure eviction message, once evicted
        self.seen_at: float | None = time.monotonic()   # until the pod first runs (pod start duration)
        self.rank = time.monotonic()   # its turn for Podman's start calls: first seen, first served
        _WORKERS.add(self)

    # -- inputs ------------------------------------------------------------
    def update(self, pod: dict) -> None:
        """A new version of the pod. Our own status writes come back as updates:
        they change nothing to act on, so they do not cost a sync."""
        old = self.pod
        self.pod = pod
        om, nm = old["metadata"], pod["metadata"]
        if old.get("spec") != pod.get("spec") or om.get("deletionTimestamp") != nm.get("deletionTimestamp") \
                or om.get("labels") != nm.get("labels") or om.get("annotations") != nm.get("annotations"):
            self.wake.set()

    def api_deleted(self) -> None:
        self.gone = True
        self.wake.set()

    # -- loop --------------------------------------------------------------
    async def run(self) -> None:
        ordered.serving(self.rank)   # this task's Podman start calls go in the pod's turn
        try:
            while True:
                self.wake.clear()
                try:
                    if self.gone or self.pod["metadata"].get("deletionTimestamp"):
                        await self.terminate()
                        return
                    await self.sync()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("pod %s/%s sync failed", self.pod["metadata"].get("namespace"),
                                  self.pod["metadata"].get("name"))
                try:
                    await asyncio.wait_for(self.wake.wait(), self._next_wake())
                except asyncio.TimeoutError:
                    pass
        finally:
            for loops in self.probes.values():
                for p in loops:
                    p.stop()
            self.finished.set()

    def _next_wake(self) -> float:
        if (self.written or {}).get("phase") in ("Succeeded", "Failed"):
            return 60.0  # nothing will run again: only deletion (an update) matters
        now = time.monotonic()
        waits = [b.remaining(now) for b in list(self.backoff.values()) + list(self.pull_backoff.values())
                 if b.in_backoff(now)]
        ads = self.pod["spec"].get("activeDeadlineSeconds")
        if ads is not None and self.start_time and not self.deadline_exceeded:
            left = int(ads) - (time.time() - timestamps.parse_time(self.start_time))
            waits.append(max(left, 0.0))
        return max(0.2, min(waits + [RESYNC]))

    # -- the sync ----------------------------------------------------------
    async def _ensure_sandbox(self) -> bool:
        now = time.monotonic()
        if self.sandbox_id and self.pod_ip and now - self.sandbox_checked < SANDBOX_RECHECK:
            return True
        self.sandbox_checked = now
        pm = self.ctx.podman
        meta = self.pod["metadata"]
        name = L.sandbox_name(meta["namespace"], meta["name"], self.uid)
        if not self.sandbox_id and not self.adopt_checked:
            # A new pod: create its sandbox straight away rather than asking first
            # whether it exists; a 409 (the name is taken: an agent restarted and the
            # sandbox is still there) falls back to adopting it below.
            self.adopt_checked = True
            created = await self._create_sandbox(adopt_on_conflict=True)
            if created is False:
                return False
            if created:
                return True
        info = await pm.pod_inspect(name)
        if info is None:
            created = await self._create_sandbox()
            if not created:
                return False
            return True
        self.sandbox_id = info["Id"]
        if info.get("State") not in ("Running", "Degraded") and info.get("InfraContainerID"):
            await pm.container_start(info["InfraContainerID"])
        if self.pod["spec"].get("hostNetwork"):
            self.pod_ip = self.ctx.host_ip
        elif not self.pod_ip and info.get("InfraContainerID"):
            infra = await pm.container_inspect(info["InfraContainerID"]) or {}
            self.pod_ip = ((infra.get("NetworkSettings") or {}).get("IPAddress")) or ""
        return True

    async def _create_sandbox(self, adopt_on_conflict: bool = False) -> bool | None:
        """Create and start the Podman pod. True: made (sandbox_id and pod_ip set);
        None: one of that name exists already (adopt_on_conflict); False: it cannot be made."""
        pm = self.ctx.podman
        refused = await self._resolve_runtime_handler()
        if refused:
            self.ctx.recorder.event(self.pod, "Warning", "FailedCreatePodSandBox",
                                    f"Failed to create pod sandbox: {refused}")
            return False
        try:
            sid = await pm.pod_create(specgen.sandbox_spec(self.pod, self.ctx.node_name))
        except PodmanError as e:
            if e.status == 409 and adopt_on_conflict:
                return None
            self.ctx.recorder.event(self.pod, "Warning", "FailedCreatePodSandBox",
                                    f"Failed to create pod sandbox: {e.message}")
            return False
        self.sandbox_id = sid
        self.fresh_sandbox = True
        try:
            await pm.pod_start(sid)
        except PodmanError as e:
            self.ctx.recorder.event(self.pod, "Warning", "FailedCreatePodSandBox",
                                    f"Failed to create pod sandbox: {e.message}")
            return False
        if self.pod["spec"].get("hostNetwork"):
            self.pod_ip = self.ctx.host_ip
            return True
        # Podman names a pod's infra container after the pod's id: one inspect gives
        # the address, without first inspecting the pod for the infra container's id.
        infra = await pm.container_inspect(f"{sid[:12]}-infra")
        if infra is None:
            info = await pm.pod_inspect(sid) or {}
            infra = await pm.container_inspect(info.get("InfraContainerID") or "") if info else None
        self.pod_ip = (((infra or {}).get("NetworkSettings") or {}).get("IPAddress")) or ""
        return True

    async def _resolve_runtime_handler(self) -> str | None:
        """The OCI runtime the pod's RuntimeClass names (None: Podman's default);
        returns why the sandbox cannot be made, worded as the kubelet and containerd word it."""
        name = self.pod["spec"].get("runtimeClassName")
        if not name:
            return None
        rc = await self.ctx.sources.runtime_class(name)
        if rc is None:
            return f'RuntimeClass "{name}" not found'
        handler = rc.get("handler") or ""
        if not shutil.which(handler):
            return ("rpc error: code = Unknown desc = failed to get sandbox runtime: "
                    f'no runtime for "{handler}" is configured')
        self.runtime_handler = handler
        return None

    async def _runtime_attempts(self) -> dict[str, list[Attempt]]:
        start = time.monotonic()
        if self.relisted is not None:
            _RELIST_INTERVAL.observe((), start - self.relisted)
        self.relisted = start
        entries = await self.ctx.podman.container_list({L.POD_UID: self.uid})
        _RELIST_DURATION.observe((), time.monotonic() - start)
        limited = {c["name"] for c in self._all_containers()
                   if ((c.get("resources") or {}).get("limits") or {}).get("memory")}
        return group([from_list_entry(e, self.start_errors, limited) for e in entries
                      if (e.get("Labels") or {}).get(L.CONTAINER_NAME)])

    def _all_containers(self) -> list[dict]:
        spec = self.pod["spec"]
        return (spec.get("initContainers") or []) + (spec.get("containers") or [])

    async def _start(self, c: dict, kind: str, attempt: int, *, resync: bool = True) -> None:
        """resync: sync again at once after a successful start (to set the new attempt's
        probes); False when the caller looks at the started container itself."""
        bo = self.pull_backoff.setdefault(c["name"], BackOff())
        waiting = await start_attempt(self.ctx, self.pod, c, kind=kind, attempt=attempt,
                                      sandbox_id=self.sandbox_id, pod_ip=self.pod_ip,
                                      volume_paths=self.volume_paths or {}, pull_backoff=bo,
                                      start_errors=self.start_errors,
                                      runtime_handler=self.runtime_handler)
        if waiting:
            self.waiting[c["name"]] = waiting
        else:
            self.waiting.pop(c["name"], None)
            self.pull_backoff.pop(c["name"], None)
            if resync:
                self.wake.set()

    async def _restart_or_wait(self, c: dict, kind: str, latest: Attempt) -> None:
        """A stopped container that policy says must run again: restart it now,
        or wait out its back-off as CrashLoopBackOff."""
        now = time.monotonic()
        bo = self.backoff.setdefault(c["name"], BackOff())
        if bo.in_backoff(now):
            meta = self.pod["metadata"]
            msg = bo.message(c["name"], meta["name"], meta["namespace"], self.uid)
            if self.waiting.get(c["name"], ("",))[0] != "CrashLoopBackOff":
                self.ctx.recorder.event(self.pod, "Warning", "BackOff",
                                        "Back-off restarting failed container "
                                        f"{c['name']} in pod {meta['name']}_{meta['namespace']}"
                                        f"({self.uid})", field_path(kind, 0, c["name"]))
            self.waiting[c["name"]] = ("CrashLoopBackOff", msg)
            return
        bo.record_restart(now)
        await self._start(c, kind, latest.attempt + 1)
        await self._prune(c["name"], latest.attempt)

    async def _prune(self, name: str, keep_from: int) -> None:
        """Keep the newest two attempts: the current one and `previous` for logs."""
        for a in (await self._runtime_attempts()).get(name, []):
            if a.attempt < keep_from:
                await self.ctx.podman.container_remove(a.id)

    def _should_restart(self, latest: Attempt) -> bool:
        policy = self.pod["spec"].get("restartPolicy") or "Always"
        return policy == "Always" or (policy == "OnFailure" and not latest.succeeded)

    async def sync(self) -> None:
        meta, spec = self.pod["metadata"], self.pod["spec"]
        self.start_time = self.start_time or (self.pod.get("status") or {}).get("startTime") or timestamps.now()
        if not self.sandbox_id:
            # What the first container start reads, read while the sandbox is made.
            for c in self._all_containers():
                if c.get("image"):
                    self.ctx.images.prefetch(c["image"])
            if spec.get("enableServiceLinks", True):
                self.ctx.sources.prefetch_service_env(meta["namespace"])
        if not await self._ensure_sandbox():
            return await self._report()
        if self.volume_paths is None or time.monotonic() - self.volumes_at > VOLUME_REFRESH:
            try:
                self.volume_paths = await volumes.prepare(self.pod, self.ctx.root_dir, self.ctx.sources,
                                                          self.ctx.host_ip, self.pod_ip)
                self.volumes_at = time.monotonic()
            except (volumes.VolumeError, OSError) as e:
                self.ctx.recorder.event(self.pod, "Warning", "FailedMount",
                                        f"MountVolume.SetUp failed: {e}")
                if self.volume_paths is None:
                    return await self._report()
        self._check_deadline()
        if self.fresh_sandbox:   # just made here: no container to list yet
            self.fresh_sandbox = False
            runtime: dict[str, list[Attempt]] = {}
        else:
            runtime = await self._runtime_attempts()
        running = {a.id for attempts in runtime.values() for a in attempts if a.running}
        for stale in [cid for cid in self.probes if cid not in running]:
            for p in self.probes.pop(stale):
                p.stop()
        policy = spec.get("restartPolicy") or "Always"
        # A pod that reached a final phase never runs again, even if its containers are gone.
        final = (self.written or self.pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") \
            or self.deadline_exceeded or bool(self.evicted)

        inits_done = True
        for c in spec.get("initContainers") or []:
            latest = (runtime.get(c["name"]) or [None])[0]
            if latest is not None and latest.succeeded:
                continue
            inits_done = False
            if final:
                break
            if latest is None:
                await self._start(c, "init", 0)
            elif latest.exited:
                if policy != "Never":
                    await self._restart_or_wait(c, "init", latest)
            break
        started: list[dict] = []
        if inits_done and not final:
            for c in spec.get("containers") or []:
                attempts = runtime.get(c["name"]) or []
                latest = attempts[0] if attempts else None
                if latest is None:
                    await self._start(c, "app", 0, resync=False)
                    started.append(c)
                elif latest.running:
                    self.waiting.pop(c["name"], None)
                    await self._watch_probes(c, latest)
                elif latest.exited and self._should_restart(latest):
                    await self._restart_or_wait(c, "app", latest)
                elif latest.exited:
                    self.waiting.pop(c["name"], None)
        after: dict[str, list[Attempt]] | None = None
        if started:
            # Containers started just now: look at them once more and set their probes
            # (readiness without a probe is true) before reporting, so the first status
            # says Running and Ready in one write, not Running then Ready a sync later.
            after = await self._runtime_attempts()
            for c in started:
                latest = (after.get(c["name"]) or [None])[0]
                if c["name"] in self.waiting or latest is None:
                    continue    # not started (a waiting reason): retried on the usual schedule
                if latest.running:
                    await self._watch_probes(c, latest)
                else:   # it stopped already, or its start failed: act on it at once
                    self.wake.set()
        await self._report(after)

    def _check_deadline(self) -> None:
        ads = self.pod["spec"].get("activeDeadlineSeconds")
        if ads is None or self.deadline_exceeded or not self.start_time:
            return
        if time.time() - timestamps.parse_time(self.start_time) >= int(ads):
            self.deadline_exceeded = True
            asyncio.ensure_future(self._kill_all(int(self.pod["spec"].get("terminationGracePeriodSeconds", 30))))

    async def evict(self, message: str) -> None:
        """Node-pressure eviction with a hard threshold: the containers are killed at
        once (no grace) and the pod ends Failed with reason Evicted, never to run again."""
        self.evicted = message
        await self._kill_all(0)
        await self._report()

    # -- probes ------------------------------------------------------------
    async def _watch_probes(self, c: dict, a: Attempt) -> None:
        if a.id in self.unhealthy:
            self.unhealthy.discard(a.id)
            fpath = field_path(a.kind, 0, c["name"])
            self.ctx.recorder.event(self.pod, "Normal", "Killing",
                                    f"Container {c['name']} failed liveness probe, will be restarted",
                                    fpath)
            await self._stop_container(c, a, int(self.pod["spec"].get("terminationGracePeriodSeconds", 30)))
            return
        if a.id in self.probes:
            return
        loops = []
        has_startup = bool(c.get("startupProbe"))
        self.started[a.id] = not has_startup
        self.ready[a.id] = not c.get("readinessProbe")
        kinds = [("startup", c.get("startupProbe"))] if has_startup else []
        kinds += [("liveness", c.get("livenessProbe")), ("readiness", c.get("readinessProbe"))]
        for kind, probe in kinds:
            if not probe:
                continue
            loop = ProbeLoop(kind, probe, c, self.ctx.podman, a.id, self.pod_ip,
                             self._probe_callback(c, a))
            loops.append(loop)
            if kind == "startup" or not has_startup:
                loop.start()
        self.probes[a.id] = loops

    def _probe_callback(self, c: dict, a: Attempt):
        async def cb(kind: str, ok: bool, msg: str, flipped: bool) -> None:
            if not ok:
                self.ctx.recorder.event(self.pod, "Warning", "Unhealthy",
                                        f"{kind.capitalize()} probe failed: {msg}",
                                        field_path(a.kind, 0, c["name"]))
            if kind == "readiness" and self.ready.get(a.id) != ok:
                self.ready[a.id] = ok
                self.wake.set()
            elif kind == "startup" and ok:
                self.started[a.id] = True
                for p in self.probes.get(a.id, []):
                    if p.kind != "startup":
                        p.start()
                self.wake.set()
            elif kind in ("liveness", "startup") and flipped:
                self.unhealthy.add(a.id)
                self.wake.set()
        return cb

    # -- stopping ----------------------------------------------------------
    async def _stop_container(self, c: dict, a: Attempt, grace: int) -> None:
        hook = (c.get("lifecycle") or {}).get("preStop")
        start = time.monotonic()
        if hook:
            ok, msg = await run_hook(self.ctx, hook, a.id, self.pod_ip, max(grace, 1))
            if not ok:
                self.ctx.recorder.event(self.pod, "Warning", "FailedPreStopHook", msg,
                                        field_path(a.kind, 0, c["name"]))
        left = max(0, int(grace - (time.monotonic() - start)))
        for p in self.probes.pop(a.id, []):
            p.stop()
        await self.ctx.podman.container_stop(a.id, left)

    async def _kill_all(self, grace: int) -> None:
        runtime = await self._runtime_attempts()
        by_name = {c["name"]: c for c in self._all_containers()}
        tasks = []
        for name, attempts in runtime.items():
            for a in attempts:
                if a.running:
                    c = by_name.get(name, {"name": name})
                    self.ctx.recorder.event(self.pod, "Normal", "Killing",
                                            f"Stopping container {name}", field_path(a.kind, 0, name))
                    tasks.append(self._stop_container(c, a, grace))
        await asyncio.gather(*tasks, return_exceptions=True)
        self.wake.set()

    async def terminate(self) -> None:
        """Graceful deletion: preStop, SIGTERM, the grace period, SIGKILL; then
        free the sandbox and volumes and let the API server drop the object."""
        meta = self.pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30) if not self.gone else 0
        await self._kill_all(int(grace))
        if not self.gone:
            # The kubelet's last status before the object goes: containers stopped and none
            # ready, so Ready=False is seen before DELETED (kubectl wait --for=condition=Ready=false).
            self.ready = dict.fromkeys(self.ready, False)
            try:
                await self._report()
            except Exception:  # noqa: BLE001 - the deletion must go on whatever the report met
                log.exception("final status of %s/%s", meta["namespace"], meta["name"])
        if self.sandbox_id:
            await self.ctx.podman.pod_remove(self.sandbox_id)
        else:
            await self.ctx.podman.pod_remove(L.sandbox_name(meta["namespace"], meta["name"], self.uid))
        volumes.cleanup(self.ctx.root_dir, self.uid)
        if not self.gone:
            try:
                await self.ctx.client.request("DELETE", PODS.path(meta["namespace"], meta["name"]), body={
                    "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                    "preconditions": {"uid": self.uid}})
            except ApiError as e:
                if not (e.not_found or e.conflict):
                    log.warning("final delete of %s/%s: %s", meta["namespace"], meta["name"], e)

    # -- status ------------------------------------------------------------
    async def _report(self, runtime: dict[str, list[Attempt]] | None = None) -> None:
        spec = self.pod["spec"]
        if runtime is None:
            runtime = await self._runtime_attempts() if self.sandbox_id else {}

        def view(c: dict, kind: str) -> ContainerView:
            attempts = runtime.get(c["name"]) or []
            latest = attempts[0] if attempts else None
            v = ContainerView(name=c["name"], image=c.get("image", ""), latest=latest,
                              previous=attempts[1] if len(attempts) > 1 else None,
                              waiting=self.waiting.get(c["name"]))
            if latest is not None:
                v.ready = self.ready.get(latest.id, False) if kind == "app" else False
                v.started = self.started.get(latest.id, False) if kind == "app" else latest.running
            return v

        inits = [view(c, "init") for c in spec.get("initContainers") or []]
        apps = [view(c, "app") for c in spec.get("containers") or []]
        if any(v.latest is None or not v.latest.succeeded for v in inits):
            for v in apps:
                if v.latest is None and v.waiting is None:
                    v.waiting = ("PodInitializing", "")
        pv = PodView(restart_policy=spec.get("restartPolicy") or "Always", inits=inits, apps=apps,
                     sandbox_ready=bool(self.sandbox_id), pod_ip=self.pod_ip, host_ip=self.ctx.host_ip,
                     start_time=self.start_time, qos=S.qos_class(self.pod))
        if self.deadline_exceeded:
            pv.phase_override, pv.reason = "Failed", "DeadlineExceeded"
            pv.message = f"Pod was active on the node longer than the specified deadline"
        if self.evicted:
            pv.phase_override, pv.reason, pv.message = "Failed", "Evicted", self.evicted
            pv.extra_conditions = [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                                    "message": self.evicted}]
        old = self.written or self.pod.get("status") or {}
        st = pod_status(pv, old, timestamps.now())
        if st == self.written:
            return
        meta = self.pod["metadata"]
        try:
            await self.ctx.client.patch(PODS, meta["name"], {"status": st}, meta["namespace"],
                                        subresource="status")
            self.written = st
            if self.seen_at is not None and st.get("phase") == "Running":
                _START_DURATION.observe((), time.monotonic() - self.seen_at)
                self.seen_at = None
        except ApiError as e:
            if e.not_found:
                self.gone = True
                self.wake.set()
            else:
                log.warning("status of %s/%s: %s", meta["namespace"], meta["name"], e)
