"""What every controller shares in one process: the client, one informer per
resource (so ten controllers watching pods cost one watch), event recorders and
the command-line options."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kubeclient import ApiClient, EventRecorder, Informer, Resource


@dataclass
class Options:
    node_monitor_grace_period: float = 40.0
    node_monitor_period: float = 5.0
    default_toleration_seconds: int = 300  # for pods without a NoExecute toleration of the taint
    terminated_pod_gc_threshold: int = 12500
    pod_gc_period: float = 20.0
    root_ca_file: str | None = None
    cluster_signing_cert_file: str | None = None   # the CA csrsigning issues with (none: it does not sign)
    cluster_signing_key_file: str | None = None
    cluster_signing_duration: float = 365 * 24 * 3600.0   # the longest certificate it issues
    resync_period: float | None = 300.0
    namespace_sync_period: float = 1.0  # how soon to look again at a namespace still emptying
    extra: dict = field(default_factory=dict)


class InformerFactory:
    def __init__(self, client: ApiClient, resync_period: float | None = None):
        self.client, self.resync_period = client, resync_period
        self.informers: dict[tuple[Resource, str | None], Informer] = {}
        self._tasks: dict[tuple[Resource, str | None], asyncio.Task] = {}

    def informer(self, res: Resource, namespace: str | None = None) -> Informer:
        key = (res, namespace)
        if key not in self.informers:
            self.informers[key] = Informer(self.client, res, namespace, resync_period=self.resync_period)
        return self.informers[key]

    def start(self) -> None:
        """Start every informer asked for so far (safe to call again after adding more)."""
        for key, inf in self.informers.items():
            if key not in self._tasks:
                self._tasks[key] = asyncio.get_running_loop().create_task(inf.run(), name=f"informer-{key[0].plural}")

    async def wait_for_sync(self) -> None:
        await asyncio.gather(*(i.wait_synced() for i in self.informers.values()))

    async def stop(self) -> None:
        for t in self._tasks.values():
            t.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()


class Context:
    def __init__(self, client: ApiClient, options: Options | None = None):
        self.client = client
        self.options = options or Options()
        self.informers = InformerFactory(client, self.options.resync_period)
        self._recorders: dict[str, EventRecorder] = {}

    def with_client(self, client: ApiClient) -> "Context":
        """A context for one controller that writes with its own credentials (a service
        account's, --use-service-account-credentials) and reads through the informers
        shared with the rest; its events go out with that client too."""
        view = Context.__new__(Context)
        view.client, view.options, view.informers, view._recorders = client, self.options, self.informers, {}
        return view

    def recorder(self, component: str) -> EventRecorder:
        if component not in self._recorders:
            self._recorders[component] = EventRecorder(self.client, component)
        return self._recorders[component]

    async def close(self) -> None:
        await self.informers.stop()
        await self.close_recorders()

    async def close_recorders(self) -> None:
        for r in self._recorders.values():
            await r.close()
        self._recorders.clear()
