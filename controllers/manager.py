"""The controller manager: elect a leader, then run the chosen controllers.

Only the holder of the `kube-controller-manager` Lease in kube-system runs
controllers; the others wait as candidates and take over when the holder stops
renewing. Losing the lease stops every controller and returns to campaigning.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

from kubeclient import ApiClient, LeaderElector

from .context import Context, Options
from .credentials import SERVICE_ACCOUNTS, ServiceAccountTokens
from .registry import load, select

log = logging.getLogger(__name__)
LEASE_NAME = "kube-controller-manager"


class Manager:
    def __init__(self, client: ApiClient, names: list[str], options: Options | None = None, *,
                 service_account_credentials: bool = False):
        self.client, self.names, self.options = client, names, options or Options()
        self.service_account_credentials = service_account_credentials
        self.ctx: Context | None = None
        self.controllers: dict[str, object] = {}
        self.tokens: ServiceAccountTokens | None = None
        self._views: list[Context] = []
        self._task: asyncio.Task | None = None

    async def _contexts(self) -> dict[str, Context]:
        """Each controller's context: the shared one, or (--use-service-account-credentials) a
        view of it whose client writes as the controller's own ServiceAccount."""
        if not self.service_account_credentials:
            return {name: self.ctx for name in self.names}
        self.tokens = ServiceAccountTokens(self.client)
        clients = await asyncio.gather(*(self.tokens.client_for(SERVICE_ACCOUNTS[n]) for n in self.names))
        views = {n: self.ctx.with_client(c) for n, c in zip(self.names, clients)}
        self._views = list(views.values())
        return views

    async def start(self) -> None:
        self.ctx = Context(self.client, self.options)
        contexts = await self._contexts()
        for name in self.names:
            try:
                self.controllers[name] = load(name)(contexts[name])
            except Exception:
                log.exception("controller %s failed to start", name)
        self.ctx.informers.start()
        self._task = asyncio.ensure_future(asyncio.gather(*(c.run() for c in self.controllers.values())))
        self._task.add_done_callback(_report_end)
        log.info("controllers started%s: %s", " (each with its service account)" if self.tokens else "",
                 ", ".join(self.controllers))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for view in self._views:
            await view.close_recorders()
        self._views.clear()
        if self.tokens:
            await self.tokens.close()
            self.tokens = None
        if self.ctx:
            await self.ctx.close()
        self.controllers.clear()


async def run_controllers(kubeconfig_path: str | None, controllers: list[str] | str = ("*",), *,
                          options: Options | None = None, leader_elect: bool = True,
                          identity: str | None = None, lease_duration: float = 15.0,
                          renew_deadline: float = 10.0, retry_period: float = 2.0,
                          lease_name: str = LEASE_NAME, lease_namespace: str = "kube-system",
                          client: ApiClient | None = None, started: asyncio.Event | None = None,
                          service_account_credentials: bool = False) -> None:
    """Run until cancelled. `started` is set once this process leads and its controllers run.
    With service_account_credentials each controller writes as its own ServiceAccount
    (credentials.py)."""
    names = select(list(controllers))
    own_client = client is None
    # writes pipelined (ApiClient pipelined_writes): at 50 pods/s each pod's create, events and
    # its owners' status writes through httpx were a third of this process's CPU
    client = client or ApiClient.from_kubeconfig(kubeconfig_path, user_agent="pocketkube-controller-manager",
                                                 pipelined_writes=8)
    manager = Manager(client, names, options, service_account_credentials=service_account_credentials)

    async def lead():
        await manager.start()
        if started:
            started.set()

    async def step_down():
        await manager.stop()
        if started:
            started.clear()

    try:
        if not leader_elect:
            await lead()
            await asyncio.Event().wait()
        identity = identity or f"{socket.gethostname()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        elector = LeaderElector(client, lease_name, identity, namespace=lease_namespace,
                                lease_duration=lease_duration,
                                renew_deadline=renew_deadline, retry_period=retry_period,
                                on_started_leading=lead, on_stopped_leading=step_down)
        await elector.run()
    finally:
        await asyncio.shield(manager.stop())
        if own_client:
            await client.close()


def _report_end(task: asyncio.Future) -> None:
    """Read how the controllers' gather ended, so a shutdown that cancels them one by
    one does not log "exception was never retrieved"; a real failure is logged."""
    if task.cancelled():
        return
    err = task.exception()
    if err is not None and not isinstance(err, asyncio.CancelledError):
        log.error("controllers stopped: %r", err)
