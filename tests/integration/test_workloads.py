"""Deployments, ReplicaSets, Jobs, CronJobs and PodDisruptionBudgets through
kubectl and the Python client, against the real API server, the controller
manager and simulated nodes whose pods a PodRunner starts (and finishes, for Jobs)."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from kubeclient import Informer
from kubeclient.client import ApiError
from kubeclient.resources import DEPLOYMENTS, JOBS, PODS, REPLICASETS

from controllers_support import FAST_FLAGS, leading_controllers, poll, simulated_cluster
from workloads_support import PodRunner


# No node lifecycle test here: a node whose heartbeat is late (kubectl's first discovery can
# hold a busy machine for seconds) must not be marked Unknown and lose its pods mid-rollout.
FLAGS = [*FAST_FLAGS[2:], "--node-monitor-grace-period", "40s", "--node-monitor-period", "5s"]


@pytest.fixture(scope="module")
def controllers(server, tmp_path_factory):
    with leading_controllers(server.kubeconfig, tmp_path_factory.mktemp("wl"), *FLAGS, name="wl") as proc:
        yield proc


@pytest.fixture
async def cluster(server, controllers):
    async with simulated_cluster(server.kubeconfig, renew_interval=0.5) as (client, sim):
        tag = uuid.uuid4().hex[:6]
        await sim.add(f"wl-a-{tag}")
        await sim.add(f"wl-b-{tag}")
        runner = PodRunner(client, sim)
        runner.start()
        try:
            yield client, sim, runner
        finally:
            await runner.stop()


async def run(kubectl, *args, **kw):
    """kubectl in a thread: the simulated nodes and the PodRunner share this test's event loop."""
    return await asyncio.to_thread(kubectl, *args, **kw)


async def _get(kubectl, *args, version="1.33"):
    return json.loads((await run(kubectl, "get", *args, "-o", "json", version=version)).stdout)


async def _rollout_done(kubectl, ns, name, version="1.33"):
    out = await run(kubectl, "rollout", "status", f"deployment/{name}", "-n", ns, "--timeout=60s", version=version, timeout=90)
    assert "successfully rolled out" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("version", ["1.27", "1.33"])
async def test_deployment_rolls_out_a_new_image_and_back(cluster, namespace, kubectl, version):
    await run(kubectl, "create", "deployment", "web", "--image=nginx:1.25", "--replicas=3", "-n", namespace, version=version)
    await _rollout_done(kubectl, namespace, "web", version)
    table = (await run(kubectl, "get", "deploy", "web", "-n", namespace, version=version)).stdout
    assert table.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table.split("\n")[1].split()[:4] == ["web", "3/3", "3", "3"]
    d = await _get(kubectl, "deploy", "web", "-n", namespace)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert {c["type"]: c["reason"] for c in d["status"]["conditions"]} == {
        "Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}

    await run(kubectl, "set", "image", "deployment/web", "nginx=nginx:1.26", "-n", namespace, version=version)
    await _rollout_done(kubectl, namespace, "web", version)
    rss = (await _get(kubectl, "rs", "-n", namespace))["items"]
    assert sorted((r["spec"]["template"]["spec"]["containers"][0]["image"], r["spec"]["replicas"]) for r in rss) == [
        ("nginx:1.25", 0), ("nginx:1.26", 3)]
    history = (await run(kubectl, "rollout", "history", "deployment/web", "-n", namespace, version=version)).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    await run(kubectl, "rollout", "undo", "deployment/web", "-n", namespace, version=version)
    await _rollout_done(kubectl, namespace, "web", version)
    d = await _get(kubectl, "deploy", "web", "-n", namespace)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert len((await _get(kubectl, "rs", "-n", namespace))["items"]) == 2  # the old ReplicaSet came back
    pods = (await _get(kubectl, "pods", "-n", namespace, "-l", "app=web"))["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.25"}


async def test_deployment_scale_pause_resume_restart(cluster, namespace, kubectl):
    client, _, _ = cluster
    await run(kubectl, "create", "deployment", "api", "--image=busybox", "--replicas=2", "-n", namespace)
    await _rollout_done(kubectl, namespace, "api")
    await run(kubectl, "scale", "deployment/api", "--replicas=4", "-n", namespace)
    await _rollout_done(kubectl, namespace, "api")
    assert (await client.get(DEPLOYMENTS, "api", namespace))["status"]["availableReplicas"] == 4
    scale = json.loads((await run(kubectl, "get", "--raw", f"/apis/apps/v1/namespaces/{namespace}/deployments/api/scale")).stdout)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4

    await run(kubectl, "rollout", "pause", "deployment/api", "-n", namespace)
    await run(kubectl, "set", "image", "deployment/api", "busybox=busybox:2", "-n", namespace)

    async def paused():
        d = await client.get(DEPLOYMENTS, "api", namespace)
        conds = {c["type"]: c for c in d["status"].get("conditions") or []}
        return d["status"].get("observedGeneration") == d["metadata"]["generation"] and \
            conds["Progressing"]["reason"] == "DeploymentPaused"
    await poll(paused, what="a paused deployment")
    assert len((await client.list(REPLICASETS, namespace))["items"]) == 1  # nothing rolled out while paused
    await run(kubectl, "rollout", "resume", "deployment/api", "-n", namespace)
    await _rollout_done(kubectl, namespace, "api")
    await run(kubectl, "rollout", "restart", "deployment/api", "-n", namespace)
    await _rollout_done(kubectl, namespace, "api")
    rss = (await client.list(REPLICASETS, namespace))["items"]
    assert sorted(r["spec"]["replicas"] for r in rss) == [0, 0, 4]
    out = (await run(kubectl, "get", "all", "-n", namespace)).stdout
    assert "deployment.apps/api" in out and "replicaset.apps/api-" in out
    await run(kubectl, "autoscale", "deployment/api", "--max=6", "--cpu-percent=60", "-n", namespace)
    hpa = (await run(kubectl, "get", "hpa", "api", "-n", namespace)).stdout.splitlines()
    assert hpa[0].split()[:3] == ["NAME", "REFERENCE", "TARGETS"]
    assert hpa[1].split()[1:4] == ["Deployment/api", "cpu:", "<unknown>/60%"]


async def test_job_with_parallelism_completes_and_cronjob_spawns_jobs(cluster, namespace, kubectl):
    client, _, _ = cluster
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "six"},
           "spec": {"completions": 6, "parallelism": 3, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))
    await run(kubectl, "wait", "--for=condition=complete", "job/six", "-n", namespace, "--timeout=60s", timeout=90)
    j = await client.get(JOBS, "six", namespace)
    assert j["status"]["succeeded"] == 6 and not j["status"].get("failed")
    pods = (await client.list(PODS, namespace, label_selector="job-name=six"))["items"]
    assert len(pods) == 6 and not any(p["metadata"].get("finalizers") for p in pods)
    table = (await run(kubectl, "get", "job", "six", "-n", namespace)).stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "STATUS", "COMPLETIONS"] and table[1].split()[1:3] == ["Complete", "6/6"]

    await run(kubectl, "create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "-n", namespace, "--", "true")
    await run(kubectl, "create", "job", "--from=cronjob/tick", "manual", "-n", namespace)
    await run(kubectl, "wait", "--for=condition=complete", "job/manual", "-n", namespace, "--timeout=60s", timeout=90)
    cj = await _get(kubectl, "cronjob", "tick", "-n", namespace)
    assert cj["spec"]["concurrencyPolicy"] == "Allow" and cj["spec"]["successfulJobsHistoryLimit"] == 3

    async def fired():  # the schedule fires at the next minute: a Job owned by the CronJob appears
        jobs = (await client.list(JOBS, namespace))["items"]
        return [j for j in jobs if j["metadata"]["name"].startswith("tick-") and any(
            r.get("kind") == "CronJob" and r.get("controller") for r in j["metadata"].get("ownerReferences") or [])]
    scheduled = await poll(fired, timeout=90, interval=1, what="a scheduled Job")
    assert scheduled[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    cj = await _get(kubectl, "cronjob", "tick", "-n", namespace)
    assert cj["status"].get("lastScheduleTime")


async def test_failing_job_stops_at_its_backoff_limit(cluster, namespace, kubectl):
    client, _, _ = cluster
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bad"},
           "spec": {"backoffLimit": 0, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["false"]}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))
    await run(kubectl, "wait", "--for=condition=failed", "job/bad", "-n", namespace, "--timeout=60s", timeout=90)
    j = await client.get(JOBS, "bad", namespace)
    assert j["status"]["failed"] == 1
    assert any(c["type"] == "Failed" and c["reason"] == "BackoffLimitExceeded" for c in j["status"]["conditions"])

    fatal = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fatal"},
             "spec": {"backoffLimit": 6, "podFailurePolicy": {"rules": [
                 {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}}]},
                 "template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "c", "image": "busybox", "command": ["false"]}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(fatal))
    await run(kubectl, "wait", "--for=condition=failed", "job/fatal", "-n", namespace, "--timeout=60s", timeout=90)
    failed = next(c for c in (await client.get(JOBS, "fatal", namespace))["status"]["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "PodFailurePolicy"  # at once, not after 6 retries
    assert failed["message"].startswith("Container c for pod ") and "exit code 1 matching FailJob rule at index 0" \
        in failed["message"]


async def test_drain_honours_a_disruption_budget(cluster, namespace, kubectl):
    client, sim, _ = cluster
    await run(kubectl, "create", "deployment", "db", "--image=busybox", "--replicas=2", "-n", namespace)
    await _rollout_done(kubectl, namespace, "db")
    await run(kubectl, "create", "pdb", "db", "--selector=app=db", "--min-available=2", "-n", namespace)

    async def budget(allowed):
        st = (await client.get_path(f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/db")).get("status") or {}
        return st.get("currentHealthy") == 2 and st.get("disruptionsAllowed") == allowed
    await poll(lambda: budget(0), what="a budget allowing nothing")
    pod = (await client.list(PODS, namespace, label_selector="app=db"))["items"][0]
    node = pod["spec"]["nodeName"]
    out = await run(kubectl, "drain", node, "--ignore-daemonsets", "--timeout=3s", check=False, timeout=60)
    assert out.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in out.stderr + out.stdout
    assert (await _get(kubectl, "node", node))["spec"].get("unschedulable") is True  # drain cordons first
    await run(kubectl, "patch", "pdb", "db", "-n", namespace, "--type=merge", "-p", '{"spec":{"minAvailable":1}}')
    await poll(lambda: budget(1), what="a budget allowing one")
    out = await run(kubectl, "drain", node, "--ignore-daemonsets", "--timeout=60s", timeout=90)
    assert "drained" in out.stdout
    await run(kubectl, "uncordon", node)


async def test_indexed_job_and_suspend_resume(cluster, namespace, kubectl):
    client, _, _ = cluster
    indexed = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "idx"},
               "spec": {"completions": 3, "parallelism": 2, "completionMode": "Indexed", "template": {"spec": {
                   "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(indexed))
    await run(kubectl, "wait", "--for=condition=complete", "job/idx", "-n", namespace, "--timeout=60s", timeout=90)
    j = await client.get(JOBS, "idx", namespace)
    assert j["status"]["completedIndexes"] == "0-2" and j["status"]["succeeded"] == 3
    pods = (await client.list(PODS, namespace, label_selector="job-name=idx"))["items"]
    by_index = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p for p in pods}
    assert sorted(by_index) == ["0", "1", "2"]
    assert by_index["1"]["spec"]["hostname"] == "idx-1"
    env = by_index["1"]["spec"]["containers"][0]["env"]
    assert env[-1]["name"] == "JOB_COMPLETION_INDEX"

    suspended = dict(indexed, metadata={"name": "later"}, spec={**indexed["spec"], "suspend": True,
                                                                  "completionMode": "NonIndexed"})
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(suspended))
    await run(kubectl, "wait", "--for=condition=suspended", "job/later", "-n", namespace, "--timeout=60s", timeout=90)
    assert not (await client.list(PODS, namespace, label_selector="job-name=later"))["items"]
    await run(kubectl, "patch", "job", "later", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":false}}')
    await run(kubectl, "wait", "--for=condition=complete", "job/later", "-n", namespace, "--timeout=60s", timeout=90)
    j = await client.get(JOBS, "later", namespace)
    assert {c["type"]: c["reason"] for c in j["status"]["conditions"]}["Suspended"] == "JobResumed"


async def test_finished_job_with_ttl_is_deleted_with_its_pods(cluster, namespace, kubectl):
    client, _, _ = cluster
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "brief"},
           "spec": {"ttlSecondsAfterFinished": 0, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))

    async def gone():
        jobs = (await client.list(JOBS, namespace))["items"]
        pods = (await client.list(PODS, namespace, label_selector="job-name=brief"))["items"]
        return not jobs and not pods
    await poll(gone, timeout=60, what="the finished Job and its pod deleted")


async def test_a_stalled_rollout_reports_its_progress_deadline(cluster, namespace, kubectl):
    _, _, runner = cluster
    runner.paused = True  # the pods never start: no progress
    try:
        spec = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck"},
                "spec": {"replicas": 1, "progressDeadlineSeconds": 2, "selector": {"matchLabels": {"app": "stuck"}},
                         "template": {"metadata": {"labels": {"app": "stuck"}},
                                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
        await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(spec))
        out = await run(kubectl, "rollout", "status", "deployment/stuck", "-n", namespace, "--timeout=60s",
                        check=False, timeout=90)
        assert out.returncode != 0
        assert 'deployment "stuck" exceeded its progress deadline' in out.stderr
        d = await _get(kubectl, "deploy", "stuck", "-n", namespace)
        progressing = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
        assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
        assert progressing["message"].startswith('ReplicaSet "stuck-') and progressing["message"].endswith(
            '" has timed out progressing.')
    finally:
        runner.paused = False


async def test_deleting_a_running_job_leaves_no_pod_behind(cluster, namespace, kubectl):
    client, _, runner = cluster
    runner.finish_jobs = False  # its pods keep running
    try:
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "long"},
               "spec": {"parallelism": 2, "completions": 2, "template": {"spec": {
                   "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
        await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))

        async def active():
            return ((await client.get(JOBS, "long", namespace)).get("status") or {}).get("active") == 2
        await poll(active, timeout=60, what="two active pods")
        await run(kubectl, "delete", "job", "long", "-n", namespace)  # pods keep the tracking finalizer till now

        async def no_pods():
            return not (await client.list(PODS, namespace, label_selector="job-name=long"))["items"]
        await poll(no_pods, timeout=60, what="the Job's pods gone")
    finally:
        runner.finish_jobs = True


async def test_a_job_deleted_in_the_foreground_gets_no_replacement_pods(cluster, namespace, kubectl):
    """While the garbage collector deletes a Job's pods (foreground), the job controller
    counts them but creates none in their place: upstream does not manage a Job being
    deleted. A finalizer of the test's own holds the Job in that state until we look."""
    client, _, runner = cluster
    runner.finish_jobs = False  # its pods keep running
    hold = "pocketkube.test/hold"
    seen: set[str] = set()  # every pod ever added in the namespace, through a watch
    pods = Informer(client, PODS, namespace)
    pods.add_handler(lambda p: seen.add(p["metadata"]["name"]))
    watching = asyncio.ensure_future(pods.run())
    try:
        await pods.wait_synced()
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fg", "finalizers": [hold]},
               "spec": {"parallelism": 2, "completions": 4, "template": {"spec": {
                   "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
        await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))

        async def active():
            return ((await client.get(JOBS, "fg", namespace)).get("status") or {}).get("active") == 2
        await poll(active, timeout=60, what="two active pods")
        first = {p["metadata"]["name"] for p in (await client.list(PODS, namespace))["items"]}
        await run(kubectl, "delete", "job", "fg", "-n", namespace, "--cascade=foreground", "--wait=false")

        async def collected():  # the GC found no dependent left (none is being created): let the Job go
            j = await client.get(JOBS, "fg", namespace)
            owned = [p for p in (await client.list(PODS, namespace))["items"]
                     if any(r["uid"] == j["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or [])]
            if j["metadata"].get("finalizers") != [hold] or owned:
                return None
            try:
                await client.patch(JOBS, "fg", {"metadata": {"finalizers": None,
                                                             "resourceVersion": j["metadata"]["resourceVersion"]}},
                                   namespace)
            except ApiError as e:
                if e.conflict:
                    return None  # the controller wrote meanwhile: look again
                raise
            return True
        await poll(collected, timeout=60, what="the Job's pods deleted by the garbage collector")

        async def job_gone():
            try:
                await client.get(JOBS, "fg", namespace)
            except ApiError as e:
                return e.not_found
        await poll(job_gone, timeout=60, what="the Job gone")
        # a pod added now is seen after every pod added before it: the watch is then complete
        await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "marker"},
                                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}}, namespace)
        await poll(lambda: "marker" in seen, timeout=30, what="the marker pod through the watch")
        assert seen - {"marker"} == first, f"pods created while the Job was being deleted: {seen - first - {'marker'}}"
    finally:
        runner.finish_jobs = True
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)


async def test_statefulset_claims_a_volume_per_ordinal(cluster, namespace, kubectl):
    client, _, _ = cluster
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                        {"name": "c", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(sts))

    async def claimed():
        pvcs = (await client.get_path(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"))["items"]
        pods = (await client.list(PODS, namespace, label_selector="app=db"))["items"]
        return [c["metadata"]["name"] for c in pvcs] == ["data-db-0"] and pods and \
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in pods[0]["spec"]["volumes"]
    await poll(claimed, timeout=60, what="the claim data-db-0 and db-0 mounting it")


async def test_statefulset_claim_retention_policy_deletes_claims(cluster, namespace, kubectl):
    """whenScaled=Delete: a scaled-away pod owns its claims and they go with it;
    whenDeleted=Delete: the set owns the rest and they go with the set."""
    client, _, _ = cluster
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "kv"},
           "spec": {"replicas": 2, "serviceName": "kv", "podManagementPolicy": "Parallel",
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
                    "selector": {"matchLabels": {"app": "kv"}},
                    "template": {"metadata": {"labels": {"app": "kv"}}, "spec": {"containers": [
                        {"name": "c", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(sts))

    async def claims():
        items = (await client.get_path(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"))["items"]
        return {c["metadata"]["name"]: [r["kind"] for r in c["metadata"].get("ownerReferences") or []] for c in items}

    async def owned_by_set():
        return await claims() == {"data-kv-0": ["StatefulSet"], "data-kv-1": ["StatefulSet"]}
    await poll(owned_by_set, timeout=60, what="both claims owned by the StatefulSet")
    out = await run(kubectl, "scale", "statefulset", "kv", "--replicas=1", "-n", namespace)
    assert "scaled" in out.stdout, out.stdout + out.stderr

    async def scaled_claim_gone():
        return await claims() == {"data-kv-0": ["StatefulSet"]}
    await poll(scaled_claim_gone, timeout=60, what="data-kv-1 deleted with its pod, data-kv-0 kept")
    await run(kubectl, "delete", "statefulset", "kv", "-n", namespace)

    async def all_gone():
        return await claims() == {}
    await poll(all_gone, timeout=60, what="data-kv-0 deleted with the StatefulSet")


async def test_statefulset_claims_are_retained_by_default(cluster, namespace, kubectl):
    client, _, _ = cluster
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "keep"},
           "spec": {"replicas": 1, "serviceName": "keep", "selector": {"matchLabels": {"app": "keep"}},
                    "template": {"metadata": {"labels": {"app": "keep"}}, "spec": {"containers": [
                        {"name": "c", "image": "busybox"}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(sts))
    got = await _get(kubectl, "statefulset", "keep", "-n", namespace)
    assert got["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}

    async def claimed():
        return (await client.list(PODS, namespace, label_selector="app=keep"))["items"] and \
            [c["metadata"].get("ownerReferences") for c in
             (await client.get_path(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"))["items"]] == [None]
    await poll(claimed, timeout=60, what="the pod and its claim, owned by no one")
    await run(kubectl, "delete", "statefulset", "keep", "-n", namespace, "--wait=false")

    async def pod_gone():
        return not (await client.list(PODS, namespace, label_selector="app=keep"))["items"]
    await poll(pod_gone, timeout=60, what="the pod deleted with the set")
    pvcs = (await client.get_path(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"))["items"]
    assert [c["metadata"]["name"] for c in pvcs] == ["data-keep-0"]


async def test_daemonset_max_surge_starts_the_new_pod_beside_the_old(cluster, namespace, kubectl):
    client, sim, runner = cluster
    tag = uuid.uuid4().hex[:6]
    for node in sim.names:
        await run(kubectl, "label", "node", node, f"surge={tag}", "--overwrite")
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                   "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                       "nodeSelector": {"surge": tag}, "containers": [{"name": "c", "image": "busybox"}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(ds))
    out = await run(kubectl, "rollout", "status", "ds/agent", "-n", namespace, "--timeout=60s", timeout=90)
    assert "successfully rolled out" in out.stdout, out.stdout + out.stderr
    old = {p["metadata"]["name"] for p in (await client.list(PODS, namespace, label_selector="app=agent"))["items"]}
    assert len(old) == 2
    runner.paused = True  # the new pods stay Pending, so never available
    try:
        await run(kubectl, "set", "env", "ds/agent", "ROUND=2", "-n", namespace)

        async def one_surge():
            pods = [p for p in (await client.list(PODS, namespace, label_selector="app=agent"))["items"]
                    if not p["metadata"].get("deletionTimestamp")]
            new = [p for p in pods if p["metadata"]["name"] not in old]
            return new if len(new) == 1 and {p["metadata"]["name"] for p in pods} >= old else None
        new = await poll(one_surge, timeout=60, what="one new pod beside both old ones (maxSurge 1)")
    finally:
        runner.paused = False
    pod = (await client.get(PODS, new[0]["metadata"]["name"], namespace))
    if pod["spec"].get("nodeName") and (pod.get("status") or {}).get("phase") == "Pending":
        try:  # events it had while paused were skipped
            await sim.run_pod(namespace, pod["metadata"]["name"])
        except ApiError as e:
            if e.code != 409:  # 409: the runner, unpaused, reported it first
                raise
    out = await run(kubectl, "rollout", "status", "ds/agent", "-n", namespace, "--timeout=60s", timeout=90)
    assert "successfully rolled out" in out.stdout, out.stdout + out.stderr

    async def replaced():
        pods = (await client.list(PODS, namespace, label_selector="app=agent"))["items"]
        names = {p["metadata"]["name"] for p in pods}
        return len(pods) == 2 and not names & old and all(
            any(e.get("name") == "ROUND" for e in p["spec"]["containers"][0].get("env") or []) for p in pods)
    await poll(replaced, timeout=60, what="both old pods replaced")


async def test_a_quota_that_refuses_pods_shows_as_replica_failure(cluster, namespace, kubectl):
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "one-pod"}, "spec": {"hard": {"pods": "1"}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(quota))
    await run(kubectl, "create", "deployment", "capped", "--image=busybox", "--replicas=2", "-n", namespace)

    async def failure(kind):
        obj = await _get(kubectl, kind, "-n", namespace, "-l", "app=capped")
        for item in obj["items"]:
            for c in (item.get("status") or {}).get("conditions") or []:
                if c["type"] == "ReplicaFailure" and c["status"] == "True":
                    return c
        return None
    rs_cond = await poll(lambda: failure("rs"), timeout=60, what="the ReplicaSet's ReplicaFailure")
    assert rs_cond["reason"] == "FailedCreate" and "exceeded quota: one-pod" in rs_cond["message"]
    d_cond = await poll(lambda: _deployment_failure(kubectl, namespace), timeout=60,
                        what="the Deployment's ReplicaFailure")
    assert (d_cond["reason"], d_cond["message"]) == (rs_cond["reason"], rs_cond["message"])
    described = (await run(kubectl, "describe", "deploy", "capped", "-n", namespace)).stdout
    assert "ReplicaFailure" in described and "FailedCreate" in described

    await run(kubectl, "delete", "resourcequota", "one-pod", "-n", namespace)
    await poll(lambda: _no_failure_and_two_pods(kubectl, namespace), timeout=90,
               what="the failure cleared once pods can be created")


async def _deployment_failure(kubectl, ns):
    d = await _get(kubectl, "deploy", "capped", "-n", ns)
    return next((c for c in d["status"].get("conditions") or [] if c["type"] == "ReplicaFailure"), None)


async def _no_failure_and_two_pods(kubectl, ns):
    d = await _get(kubectl, "deploy", "capped", "-n", ns)
    rs = await _get(kubectl, "rs", "-n", ns, "-l", "app=capped")
    conds = [c["type"] for c in d["status"].get("conditions") or []] + \
        [c["type"] for r in rs["items"] for c in (r.get("status") or {}).get("conditions") or []]
    return "ReplicaFailure" not in conds and d["status"].get("replicas") == 2


async def test_a_job_adopts_a_finished_orphan_and_counts_it(cluster, namespace, kubectl):
    """Upstream's Job claims every matching orphan not being deleted, finished ones too
    (a ReplicaSet claims active pods only)."""
    client, _, _ = cluster
    labels = {"batch": "adopt-me"}
    await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done-before", "labels": labels},
                               "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}},
                        namespace)  # the simulated node runs it to completion

    async def succeeded():
        return ((await client.get(PODS, "done-before", namespace)).get("status") or {}).get("phase") == "Succeeded"
    await poll(succeeded, timeout=60, what="the orphan pod finished")
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "adopter"},
           "spec": {"manualSelector": True, "selector": {"matchLabels": labels}, "completions": 1, "parallelism": 1,
                    "template": {"metadata": {"labels": labels}, "spec": {
                        "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
    await run(kubectl, "create", "-n", namespace, "-f", "-", input=json.dumps(job))

    async def adopted_and_complete():
        pod = await client.get(PODS, "done-before", namespace)
        j = await client.get(JOBS, "adopter", namespace)
        owners = [r["name"] for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")]
        done = any(c["type"] == "Complete" and c["status"] == "True" for c in (j.get("status") or {}).get("conditions") or [])
        return owners == ["adopter"] and done and j["status"].get("succeeded") == 1 and pod
    pod = await poll(adopted_and_complete, timeout=60, what="the orphan adopted and the Job complete")
    assert "batch.kubernetes.io/job-tracking" not in (pod["metadata"].get("finalizers") or [])  # counted for good
    pods = (await client.list(PODS, namespace, label_selector="batch=adopt-me"))["items"]
    assert [p["metadata"]["name"] for p in pods] == ["done-before"]  # no pod of its own was needed
