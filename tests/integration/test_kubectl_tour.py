"""The kubectl tour: what a person types on a fresh cluster, with stock kubectl binaries."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time

import pytest
import yaml

from tests.harness import kubectl_binary

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox
"""
SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: websvc
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def test_version_cluster_info_and_discovery(kubectl):
    assert "Server Version: v1.33" in kubectl("version").stdout
    assert "Kubernetes control plane is running at https://127.0.0.1" in kubectl("cluster-info").stdout
    versions = kubectl("api-versions").stdout.split()
    assert {"v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1"} <= set(versions)
    resources = kubectl("api-resources", "-o", "wide").stdout
    for line in ("pods", "po", "Pod", "services", "svc", "namespaces", "ns", "nodes", "no"):
        assert line in resources


@pytest.mark.parametrize("version", ["1.27", "1.29", "1.30", "1.31", "1.32", "1.33"])
def test_each_kubectl_version_reads_and_creates(kubectl, namespace, version):
    # 1.27-1.29 ask for aggregated discovery v2beta1 only; typed creates send protobuf
    kubectl("-n", namespace, "create", "configmap", f"v{version.replace('.', '')}",
            "--from-literal=a=b", version=version)
    out = kubectl("-n", namespace, "get", "configmaps", version=version).stdout
    assert out.split()[:3] == ["NAME", "DATA", "AGE"]
    assert f"v{version.replace('.', '')}" in out
    assert "po" in kubectl("api-resources", version=version).stdout


def test_create_apply_get_in_every_form(kubectl, namespace):
    ns = ("-n", namespace)
    assert kubectl(*ns, "create", "-f", "-", input=POD).stdout.strip() == "pod/web created"
    assert kubectl(*ns, "apply", "-f", "-", input=SERVICE).stdout.strip() == "service/websvc created"
    assert kubectl(*ns, "apply", "-f", "-", input=SERVICE).stdout.strip() == "service/websvc unchanged"
    kubectl(*ns, "create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=level=3")
    kubectl(*ns, "create", "secret", "generic", "creds", "--from-literal=user=admin")

    table = kubectl(*ns, "get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:3] == ["web", "0/1", "Pending"]
    wide = kubectl(*ns, "get", "pods", "-o", "wide").stdout.splitlines()[0].split()
    assert wide[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    svc = kubectl(*ns, "get", "svc", "websvc").stdout.splitlines()
    assert svc[0].split()[:5] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
    assert svc[1].split()[1] == "ClusterIP" and "80/TCP" in svc[1]

    pod = yaml.safe_load(kubectl(*ns, "get", "pod", "web", "-o", "yaml").stdout)
    assert pod["metadata"]["uid"] and pod["spec"]["restartPolicy"] == "Always"
    cm = json.loads(kubectl(*ns, "get", "cm", "settings", "-o", "json").stdout)
    assert cm["data"] == {"mode": "fast", "level": "3"}
    secret = json.loads(kubectl(*ns, "get", "secret", "creds", "-o", "json").stdout)
    assert secret["type"] == "Opaque" and secret["data"] == {"user": "YWRtaW4="}
    assert kubectl(*ns, "get", "pods", "-o", "name").stdout.strip() == "pod/web"

    assert "app=web" in kubectl(*ns, "get", "pods", "--show-labels").stdout
    assert kubectl(*ns, "get", "pods", "-l", "app=web", "-o", "name").stdout.strip() == "pod/web"
    assert kubectl(*ns, "get", "pods", "-l", "app=other", "-o", "name").stdout.strip() == ""
    assert kubectl(*ns, "get", "pods", "--field-selector", "status.phase=Pending", "-o", "name").stdout.strip() \
        == "pod/web"
    everywhere = kubectl("get", "pods", "-A").stdout.splitlines()
    assert everywhere[0].split()[0] == "NAMESPACE" and any(namespace in line for line in everywhere)


def test_label_annotate_patch_replace_edit(kubectl, namespace, monkeypatch, tmp_path):
    ns = ("-n", namespace)
    kubectl(*ns, "create", "configmap", "conf", "--from-literal=a=1")
    assert kubectl(*ns, "label", "cm", "conf", "tier=gold").stdout.strip() == "configmap/conf labeled"
    assert kubectl(*ns, "annotate", "cm", "conf", "note=hi").stdout.strip() == "configmap/conf annotated"
    kubectl(*ns, "patch", "cm", "conf", "-p", '{"data":{"b":"2"}}')
    kubectl(*ns, "patch", "cm", "conf", "--type=merge", "-p", '{"data":{"c":"3"}}')
    kubectl(*ns, "patch", "cm", "conf", "--type=json", "-p", '[{"op":"remove","path":"/data/a"}]')
    cm = json.loads(kubectl(*ns, "get", "cm", "conf", "-o", "json").stdout)
    assert cm["data"] == {"b": "2", "c": "3"}
    assert cm["metadata"]["labels"] == {"tier": "gold"} and cm["metadata"]["annotations"]["note"] == "hi"

    cm["data"] = {"replaced": "yes"}
    kubectl(*ns, "replace", "-f", "-", input=json.dumps(cm))
    assert json.loads(kubectl(*ns, "get", "cm", "conf", "-o", "json").stdout)["data"] == {"replaced": "yes"}

    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/replaced: \"\\{0,1\\}yes\"\\{0,1\\}/replaced: edited/' \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("KUBE_EDITOR", str(editor))
    assert kubectl(*ns, "edit", "cm", "conf").stdout.strip() == "configmap/conf edited"
    assert json.loads(kubectl(*ns, "get", "cm", "conf", "-o", "json").stdout)["data"] == {"replaced": "edited"}


def _start_watch(kubectl_cache_dir, server, namespace, *args: str):
    """`kubectl get configmaps -w <args>` running, and once its watch request has been
    answered (kubectl -v=6 logs it; before that, a change could land in its initial LIST
    instead of its watch): (process, queue of its stdout lines)."""
    binary = kubectl_binary("1.33")
    if binary is None:
        pytest.skip("kubectl 1.33 is not installed")
    env = {**{k: v for k, v in os.environ.items() if k != "KUBECONFIG"}, "HOME": str(kubectl_cache_dir)}
    watcher = subprocess.Popen([str(binary), f"--kubeconfig={server.kubeconfig}",
                                f"--cache-dir={kubectl_cache_dir / '1.33'}", "-n", namespace, "-v=6",
                                "get", "configmaps", "-w", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watching = threading.Event()
    out: queue.Queue = queue.Queue()

    def read_stderr():
        for line in watcher.stderr:
            if "watch=true" in line and "200 OK" in line:
                watching.set()

    def read_stdout():
        for line in watcher.stdout:
            out.put(line)

    for reader in (read_stderr, read_stdout):
        threading.Thread(target=reader, daemon=True).start()
    if not watching.wait(30):
        watcher.kill()
        raise AssertionError("kubectl get -w: no watch request answered in 30 s")
    return watcher, out


def test_get_watch_sees_add_modify_delete(kubectl, kubectl_cache_dir, server, namespace):
    watcher, out = _start_watch(kubectl_cache_dir, server, namespace, "--output-watch-events")
    try:
        kubectl("-n", namespace, "create", "configmap", "watched", "--from-literal=a=1")
        kubectl("-n", namespace, "label", "configmap", "watched", "x=y")
        kubectl("-n", namespace, "delete", "configmap", "watched")
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = out.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            lines.append(line.split())
            if line.startswith("DELETED"):
                break
    finally:
        watcher.terminate()
        watcher.wait(10)
    events = [fields[0] for fields in lines if fields and fields[0] in ("ADDED", "MODIFIED", "DELETED")]
    assert events == ["ADDED", "MODIFIED", "DELETED"], lines


def test_get_watch_json_over_http2_sees_every_event_in_order(kubectl, kubectl_cache_dir, server, namespace):
    # `kubectl get -w -o json` watches plain JSON over HTTP/2 (kubectl's transport), the
    # form the server writes straight into the stream as each event commits.
    watcher, out = _start_watch(kubectl_cache_dir, server, namespace, "--watch-only", "--output-watch-events",
                                "-o", "json")
    events = []
    try:
        for i in range(5):
            kubectl("-n", namespace, "create", "configmap", f"jw{i}", f"--from-literal=n={i}")
        kubectl("-n", namespace, "label", "configmap", "jw0", "x=y")
        kubectl("-n", namespace, "delete", "configmap", "jw1")
        decoder, text = json.JSONDecoder(), ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(events) < 7:
            try:
                text += out.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            try:
                event, _ = decoder.raw_decode(text.strip())
            except ValueError:
                continue   # an object printed over several lines: not whole yet
            events.append(event)
            text = ""
    finally:
        watcher.terminate()
        watcher.wait(10)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("ADDED", f"jw{i}") for i in range(5)] + [("MODIFIED", "jw0"), ("DELETED", "jw1")]
    revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert revisions == sorted(set(revisions))


def test_delete_wait_and_delete_all(kubectl, namespace):
    ns = ("-n", namespace)
    kubectl(*ns, "create", "-f", "-", input=POD)
    assert kubectl(*ns, "delete", "pod", "web", "--wait=true", "--timeout=20s").stdout.strip() == 'pod "web" deleted'
    for i in range(3):
        kubectl(*ns, "create", "configmap", f"bulk{i}")
    out = kubectl(*ns, "delete", "configmaps", "--all").stdout
    assert all(f'configmap "bulk{i}" deleted' in out for i in range(3))
    assert kubectl(*ns, "get", "configmaps", "-o", "name").stdout.strip() == ""


def test_create_namespace(kubectl):
    assert kubectl("create", "namespace", "tour-ns").stdout.strip() == "namespace/tour-ns created"
    assert "Active" in kubectl("get", "namespace", "tour-ns").stdout
    kubectl("delete", "namespace", "tour-ns", "--wait=false")
