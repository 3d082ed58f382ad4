"""--use-service-account-credentials: every controller writes as a ServiceAccount of its own.

As kube-controller-manager does with the flag (kubeadm sets it): the manager, under its own
identity, makes sure kube-system holds one ServiceAccount per controller, asks the API server
for a token of each (TokenRequest, serviceaccounts/<name>/token), hands each controller a
client that sends it, and asks for a new one before it expires. The API server binds each
account to its `system:controller:<name>` ClusterRole, so RBAC holds every controller to its
own rights, and audit logs say which controller wrote what. Informers stay shared and run
as the manager (it may list and watch everything); every write goes out under the
controller's account.

The account names are upstream's where upstream has the controller; `kube-scheduler` (our
scheduler runs inside the manager) and the volume controllers' are named after what they do.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from kubeclient import ApiClient, ApiError
from kubeclient.resources import SERVICEACCOUNTS
from kubeclient.timestamps import parse_time

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
# controller (registry.py) -> its ServiceAccount in kube-system
SERVICE_ACCOUNTS = {
    "scheduler": "kube-scheduler",
    "namespace": "namespace-controller",
    "serviceaccount": "service-account-controller",
    "root-ca-cert-publisher": "root-ca-cert-publisher",
    "endpoint": "endpoint-controller",
    "endpointslice": "endpointslice-controller",
    "replicationcontroller": "replication-controller",
    "replicaset": "replicaset-controller",
    "deployment": "deployment-controller",
    "job": "job-controller",
    "cronjob": "cronjob-controller",
    "disruption": "disruption-controller",
    "horizontalpodautoscaling": "horizontal-pod-autoscaler",
    "daemonset": "daemon-set-controller",
    "statefulset": "statefulset-controller",
    "garbagecollector": "generic-garbage-collector",
    "podgc": "pod-garbage-collector",
    "nodelifecycle": "node-controller",
    "persistentvolume-binder": "persistent-volume-binder",
    "pvc-protection": "pvc-protection-controller",
    "pv-protection": "pv-protection-controller",
    "ephemeral-volume": "ephemeral-volume-controller",
    "persistentvolume-expander": "expand-controller",
    "csrsigning": "certificate-controller",
    "csrapproving": "certificate-controller",
    "bootstrapsigner": "bootstrap-signer",
}

EXPIRATION_SECONDS = 3600   # what kube-controller-manager asks for
REFRESH_FRACTION = 0.8      # ... and it asks again once 80% of a token's life has passed
RETRY_SECONDS = 5.0


def token_lifetime(status: dict, now: float) -> float:
    """Seconds from `now` (Unix time) until the TokenRequest answer's token expires (0 when unknown)."""
    expires = parse_time(status.get("expirationTimestamp"))
    return max(0.0, expires - now) if expires is not None else 0.0


def refresh_delay(lifetime: float, fraction: float = REFRESH_FRACTION) -> float:
    """How long to use a token of `lifetime` seconds before asking for the next one."""
    return max(1.0, lifetime * fraction) if lifetime > 0 else RETRY_SECONDS


class ServiceAccountTokens:
    """One client per ServiceAccount, each sending a token that is renewed in the background."""

    def __init__(self, manager: ApiClient, namespace: str = NAMESPACE, *,
                 expiration_seconds: int = EXPIRATION_SECONDS, refresh_fraction: float = REFRESH_FRACTION):
        self.manager, self.namespace = manager, namespace
        self.expiration_seconds, self.refresh_fraction = expiration_seconds, refresh_fraction
        self.clients: dict[str, ApiClient] = {}
        self.refreshes = 0   # tokens replaced before expiry (a metric; tests read it)
        self._pending: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []

    async def client_for(self, account: str) -> ApiClient:
        """The client of `account` (made, with its account, on first call; shared after)."""
        if account not in self._pending:
            self._pending[account] = asyncio.ensure_future(self._make(account))
        return await asyncio.shield(self._pending[account])

    async def _make(self, account: str) -> ApiClient:
        while True:
            try:
                token, lifetime = await self._token(account)
                break
            except ApiError as e:   # e.g. the server is restarting, or its roles are not there yet
                log.warning("no token for service account %s/%s yet: %s", self.namespace, account, e)
                await asyncio.sleep(RETRY_SECONDS)
        # the manager's server and trust; its client certificate, if any, stays out of it
        config = dataclasses.replace(self.manager.config, token=token, client_cert_pem=None, client_key_pem=None)
        client = ApiClient(config, user_agent=f"pocketkube-controller-manager/{account}")
        self.clients[account] = client
        self._tasks.append(asyncio.ensure_future(self._keep_fresh(account, client, lifetime)))
        return client

    async def _ensure_account(self, account: str) -> None:
        try:
            await self.manager.get(SERVICEACCOUNTS, account, self.namespace)
        except ApiError as e:
            if not e.not_found:
                raise
            try:
                await self.manager.create(SERVICEACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                            "metadata": {"name": account}}, self.namespace)
            except ApiError as e2:
                if not e2.already_exists:
                    raise

    async def _token(self, account: str) -> tuple[str, float]:
        """A new token of `account` and its lifetime in seconds (its account made if missing)."""
        await self._ensure_account(account)
        answer = await self.manager.create(
            SERVICEACCOUNTS, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                              "spec": {"expirationSeconds": self.expiration_seconds}},
            self.namespace, subresource="token", name=account)
        status = answer.get("status") or {}
        return status["token"], token_lifetime(status, time.time())

    async def _keep_fresh(self, account: str, client: ApiClient, lifetime: float) -> None:
        delay = refresh_delay(lifetime, self.refresh_fraction)
        while True:
            await asyncio.sleep(delay)
            try:
                token, lifetime = await self._token(account)
            except ApiError as e:
                log.warning("could not renew the token of %s/%s: %s", self.namespace, account, e)
                delay = RETRY_SECONDS
                continue
            client.use_token(token)
            self.refreshes += 1
            delay = refresh_delay(lifetime, self.refresh_fraction)

    async def close(self) -> None:
        for t in [*self._tasks, *self._pending.values()]:
            t.cancel()
        await asyncio.gather(*self._tasks, *self._pending.values(), return_exceptions=True)
        for c in self.clients.values():
            await c.close()
        self._tasks.clear()
        self._pending.clear()
        self.clients.clear()
