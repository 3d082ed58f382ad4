"""Shared by the workload integration tests (no tests here): a stand-in for the
node agents of simulated nodes that runs what is bound to them.

A pod bound to one of the simulated nodes is reported Running and Ready, as a
node agent would once its containers started; a Job's pod (restartPolicy
Never/OnFailure) is then reported Succeeded, or Failed when its first
container's command is `false`. Everything goes through the API as a node
agent's status writes would.
"""
from __future__ import annotations

import asyncio
import datetime as dt

from kubeclient import ApiError, Informer
from kubeclient.resources import PODS


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PodRunner:
    def __init__(self, client, sim, finish_jobs: bool = True):
        self.client, self.sim, self.finish_jobs = client, sim, finish_jobs
        self.pods = Informer(client, PODS)
        self.pods.add_handler(self._seen, lambda old, new: self._seen(new))
        self._busy: set[str] = set()
        self._task: asyncio.Task | None = None
        self.paused = False

    def _seen(self, pod: dict) -> None:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        if self.paused or meta.get("deletionTimestamp") or spec.get("nodeName") not in self.sim.names:
            return
        phase = status.get("phase")
        job_pod = spec.get("restartPolicy") in ("Never", "OnFailure")
        if phase == "Pending" or (phase == "Running" and job_pod and self.finish_jobs):
            if meta["uid"] not in self._busy:
                self._busy.add(meta["uid"])
                asyncio.ensure_future(self._advance(pod, job_pod))

    async def _advance(self, pod: dict, job_pod: bool) -> None:
        meta = pod["metadata"]
        try:
            if (pod.get("status") or {}).get("phase") == "Pending":
                await self.sim.run_pod(meta["namespace"], meta["name"])
            if job_pod and self.finish_jobs:
                fresh = await self.client.get(PODS, meta["name"], meta["namespace"])
                command = ((fresh["spec"].get("containers") or [{}])[0].get("command") or [])
                failed = command[:1] == ["false"]
                st = fresh["status"]
                st["phase"] = "Failed" if failed else "Succeeded"
                st["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": _now()}]
                st["containerStatuses"] = [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                            "ready": False, "restartCount": 0, "started": False,
                                            "state": {"terminated": {"exitCode": 1 if failed else 0,
                                                                     "reason": "Error" if failed else "Completed",
                                                                     "finishedAt": _now()}}}
                                           for c in fresh["spec"].get("containers") or []]
                await self.client.update_status(PODS, fresh, meta["namespace"])
        except ApiError:
            pass
        finally:
            self._busy.discard(meta["uid"])

    def start(self) -> None:
        self._task = asyncio.ensure_future(self.pods.run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
