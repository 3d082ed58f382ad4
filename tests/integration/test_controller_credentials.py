"""--use-service-account-credentials against a real server under Node,RBAC with an audit log:
`pocketkube controllers` runs as system:kube-controller-manager (a token with no group, so
only upstream's narrow role of that user), each controller writes as its own ServiceAccount
in kube-system, and a Deployment, a Job and a namespace deletion still complete; the audit
log names the account behind each write; kubectl auth can-i shows the roles' edges."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import yaml

from controllers_support import (FAST_FLAGS, ControllersProcess, leading_controllers, poll, simulated_cluster,
                                 wait_leader)
from tests.audit_support import audit_events, audit_log_flags, audit_policy
from tests.harness import kubectl_runner, running_server
from workloads_support import PodRunner

POLICY = audit_policy("""\
- level: None
  verbs: [get, list, watch]
- level: Metadata
""")
SA = "system:serviceaccount:kube-system:"
MANAGER = "system:kube-controller-manager"
FLAGS = [*FAST_FLAGS[2:], "--node-monitor-grace-period", "40s", "--node-monitor-period", "5s"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sacreds")
    token = f"cm-{uuid.uuid4().hex}"
    (tmp / "tokens.csv").write_text(f'{token},{MANAGER},{MANAGER}\n')
    log = tmp / "audit.log"
    with running_server(tmp / "data", extra_args=[
            "--token-auth-file", str(tmp / "tokens.csv"), *audit_log_flags(tmp, POLICY, log)]) as srv:
        cfg = yaml.safe_load(srv.kubeconfig.read_text())
        for u in cfg["users"]:
            u["user"] = {"token": token}
        manager = tmp / "manager.kubeconfig"
        manager.write_text(yaml.safe_dump(cfg))
        with leading_controllers(manager, tmp, "--use-service-account-credentials", *FLAGS, name="sacreds") as proc:
            yield srv, log, kubectl_runner(srv.kubeconfig, tmp / "kubectl"), proc, manager


def writers(events: list[dict], resource: str, verb: str, subresource: str | None = None,
            namespace: str | None = None) -> set[str]:
    return {e["user"]["username"] for e in events
            if e["verb"] == verb and (e.get("objectRef") or {}).get("resource") == resource
            and (e.get("objectRef") or {}).get("subresource") == subresource
            and (namespace is None or (e.get("objectRef") or {}).get("namespace") == namespace)}


async def test_workloads_complete_and_each_write_is_the_controllers_own(cluster):
    srv, log, kubectl, proc, _manager = cluster
    ns = f"sa-{uuid.uuid4().hex[:6]}"

    async def k(*args):
        return (await asyncio.to_thread(kubectl, *args)).stdout

    async def get(*args):
        return json.loads(await k("get", *args, "-o", "json"))

    async with simulated_cluster(srv.kubeconfig, renew_interval=0.5) as (client, sim):
        await sim.add(f"sa-node-{uuid.uuid4().hex[:6]}")
        runner = PodRunner(client, sim)
        runner.start()
        try:
            await k("create", "namespace", ns)
            await k("create", "deployment", "web", "-n", ns, "--image=localhost/busybox", "--replicas=2",
                    "--", "sleep", "3600")
            await k("create", "job", "once", "-n", ns, "--image=localhost/busybox", "--", "true")

            async def deployed():
                return (await get("deployment", "web", "-n", ns)).get("status", {}).get("availableReplicas") == 2

            async def job_done():
                conds = (await get("job", "once", "-n", ns)).get("status", {}).get("conditions") or []
                return any(c["type"] == "Complete" and c["status"] == "True" for c in conds)
            await poll(deployed, 60, 0.5, f"2 available replicas\n{proc.log()}")
            await poll(job_done, 60, 0.5, f"the Job complete\n{proc.log()}")
            await k("delete", "namespace", ns, "--wait=false")

            async def ns_gone():
                cp = await asyncio.to_thread(kubectl, "get", "namespace", ns, check=False)
                return cp.returncode != 0 and "NotFound" in cp.stderr
            await poll(ns_gone, 60, 0.5, f"namespace {ns} gone\n{proc.log()}")
        finally:
            await runner.stop()

    events = audit_events(log)
    assert writers(events, "replicasets", "create", namespace=ns) == {SA + "deployment-controller"}
    assert writers(events, "pods", "create", namespace=ns) == {SA + "replicaset-controller", SA + "job-controller"}
    assert writers(events, "pods", "create", "binding", namespace=ns) == {SA + "kube-scheduler"}
    assert writers(events, "jobs", "update", "status", namespace=ns) == {SA + "job-controller"}
    assert writers(events, "namespaces", "update", "finalize") == {SA + "namespace-controller"}
    # the manager's own identity wrote only what the manager itself does
    own = {((e.get("objectRef") or {}).get("resource"), (e.get("objectRef") or {}).get("subresource"))
           for e in events if e["user"]["username"] == MANAGER and e["verb"] not in ("get", "list", "watch")}
    assert own and own <= {("leases", None), ("serviceaccounts", None), ("serviceaccounts", "token"),
                           ("events", None)}, own
    assert ("serviceaccounts", "token") in own


@pytest.mark.parametrize("user,args,answer", [
    (SA + "deployment-controller", ["delete", "secrets", "-A"], "no"),
    (SA + "deployment-controller", ["create", "replicasets", "-n", "default"], "yes"),
    (SA + "deployment-controller", ["delete", "pods", "-n", "default"], "no"),
    (SA + "job-controller", ["create", "pods", "-n", "default"], "yes"),
    (SA + "kube-scheduler", ["create", "pods", "--subresource=binding", "-n", "default"], "yes"),
    (SA + "generic-garbage-collector", ["delete", "configmaps", "-A"], "yes"),
    (MANAGER, ["delete", "secrets", "-A"], "no"),
    (MANAGER, ["create", "replicasets", "-n", "default"], "no"),
    (MANAGER, ["create", "pods", "--subresource=binding", "-n", "default"], "no"),
    (MANAGER, ["create", "serviceaccounts", "--subresource=token", "-n", "kube-system"], "yes"),
    (MANAGER, ["watch", "secrets", "-A"], "yes"),   # its shared informers
    (MANAGER, ["update", "leases/another-lease", "-n", "kube-system"], "yes"),   # any name in kube-system
    (MANAGER, ["update", "leases/another-lease", "-n", "default"], "no"),
])
def test_can_i(cluster, user, args, answer):
    kubectl = cluster[2]
    cp = kubectl("auth", "can-i", f"--as={user}", *args, check=False)
    assert cp.stdout.strip() == answer, (user, args, cp.stdout, cp.stderr)


def test_the_manager_leads_under_another_lease_name(cluster, tmp_path):
    """--leader-elect-resource-name with the manager's own narrow identity: upstream's
    system::leader-locking-kube-controller-manager Role lets it hold any Lease in kube-system."""
    srv, _log, _kubectl, _proc, manager = cluster
    ident = f"other-{uuid.uuid4().hex[:6]}"
    proc = ControllersProcess(manager, tmp_path, "--identity", ident, "--use-service-account-credentials",
                              "--controllers", "podgc", "--leader-elect-resource-name", "another-manager",
                              "--leader-elect-retry-period", "500ms", name="another")
    try:
        wait_leader(srv.kubeconfig, ident, lease="another-manager")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{proc.log()}") from None
    finally:
        proc.stop()


async def test_a_token_is_renewed_before_it_expires(cluster):
    """ServiceAccountTokens asks for the next token after a fraction of a token's life; the
    client then sends the new one, and it works."""
    from controllers.credentials import ServiceAccountTokens
    from kubeclient import ApiClient
    from kubeclient.resources import REPLICASETS

    manager = ApiClient.from_kubeconfig(str(cluster[4]))
    tokens = ServiceAccountTokens(manager, expiration_seconds=600, refresh_fraction=0.002)   # ~1.2 s
    try:
        client = await tokens.client_for("deployment-controller")
        first = client.config.token
        await poll(lambda: tokens.refreshes >= 1, 30, 0.2, "a renewed token")
        assert client.config.token != first
        assert "items" in await client.list(REPLICASETS, "default")
    finally:
        await tokens.close()
        await manager.close()
