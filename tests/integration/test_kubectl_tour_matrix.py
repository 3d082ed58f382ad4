"""The kubectl tour, scripted, on every installed kubectl 1.27-1.33 against one shared server.

Each version walks the same tour in its own namespace: apply (multi-document, twice,
changed and removed fields, a directory, --prune), every `get` output form, describe with
Events, `kubectl events`, wait (condition, jsonpath, delete), get --watch, server dry-run, edit, label,
annotate, replace, scale, delete --wait, proxy. Every command runs at -v=8 so that the tour
also checks, from kubectl's own log, that no request was answered 404 or 406 where a real
cluster would answer otherwise; the log is split off stderr (kubectl_tour_log) and what is
left, what a user would see, must be empty apart from the noise listed in KNOWN_STDERR.

Facts about kubectl itself that shape the tour (true against any server):
- `kubectl events` is a top-level command from 1.26 on; `alpha events` is gone in 1.27.
- `describe secret` and `describe namespace` never ask for Events.
- `--sort-by` works on one resource type at a time: with two (`get cm,secret --sort-by`)
  kubectl looks for the field on the Table objects and fails, on a real cluster too.
- `apply --prune` without `--prune-allowlist` walks kubectl's compiled-in list
  (PersistentVolumeClaim, Job, Deployment, Ingress...) and fails on the first kind the
  server does not serve. pocketkube serves them all (test_kubectl_workload_commands prunes
  without a list); the tour names its kinds to keep its -v=8 log to the kinds it uses.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.harness import kubectl_binary, kubectl_versions
from tests.integration.kubectl_tour_log import Exchange, split_stderr

APP = """
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: tour, tier: front}}
spec:
  containers: [{name: c, image: busybox, env: [{name: MODE, value: one}]}]
---
apiVersion: v1
kind: Service
metadata: {name: websvc, labels: {app: tour, tier: front}}
spec:
  selector: {app: tour}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: tour}}
data: {mode: fast, level: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, labels: {app: tour}}
data: {user: YWRtaW4=}
"""
# The same objects with one field changed (data.mode) and two removed (data.level, a label).
APP_CHANGED = (APP.replace("data: {mode: fast, level: \"3\"}", "data: {mode: slow}")
               .replace("metadata: {name: websvc, labels: {app: tour, tier: front}}",
                        "metadata: {name: websvc, labels: {app: tour}}"))
DIR_EXTRA = """
apiVersion: v1
kind: ConfigMap
metadata: {name: extra, labels: {app: tour}}
data: {note: pruned-later}
"""
DIR_RC = """
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1, labels: {app: tour-rc}}
spec:
  replicas: 1
  selector: {run: rc1}
  template:
    metadata: {labels: {run: rc1}}
    spec: {containers: [{name: c, image: busybox}]}
"""
PRUNE_KINDS = ["core/v1/ConfigMap", "core/v1/Secret", "core/v1/Pod", "core/v1/Service",
               "core/v1/ReplicationController"]

# Lines kubectl prints on stderr at normal verbosity against a real 1.33 cluster too: version -> regexes.
_SKEW = r"^WARNING: version difference between client \(1\.(27|28|29|30|31)\) and server \(1\.33\) exceeds"
KNOWN_STDERR: dict[str, list[str]] = {
    # `kubectl version`: the server says 1.33 (as the schemas it serves are 1.33's); kubectl warns
    # when it is more than one minor version older.
    **{f"1.{m}": [_SKEW] for m in range(28, 32)},
    # 1.27 also announces its own output change of `kubectl version`.
    "1.27": [_SKEW, r"^WARNING: This version information is deprecated and will be replaced with the output "
                    r"from kubectl version --short\."],
}

# 404s a real cluster gives as well: (command regex, verb, path regex, why).
EXPECTED_404 = [
    (r"^(--namespace=\S+ )?(apply|create) ", "GET", r"^/(api/v1|apis/coordination.k8s.io/v1)/(namespaces/[^/]+/)?"
     r"[a-z]+/[^/?]+$", "client-side apply and create -f look each object up before creating it"),
    (r"^--namespace=\S+ get configmap dry$", "GET", r"/configmaps/dry$",
     "the tour checks that a server dry-run create stored nothing"),
    (r"^--namespace=\S+ delete (?!.*--wait=false)", "GET", r"^/api/v1/namespaces/[^/]+/[a-z]+/[^/?]+$",
     "delete waits by default (--wait=true): it looks the object up once more and takes 404 as done"),
    (r"^--namespace=\S+ describe service ", "GET", r"/endpoints/websvc$",
     "kubectl 1.27-1.30 describe service reads the Endpoints object, which only the endpoints controller "
     "writes; the tour's server runs no controllers (1.31+ read EndpointSlices with a list)"),
]


def watchdog(proc: subprocess.Popen, seconds: float = 60) -> None:
    """A kubectl that hangs must fail the tour, not stall the suite: kill it after a while."""
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True   # never keeps pytest from exiting
    timer.start()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tour:
    """Runs one kubectl version at -v=8, checks stderr, keeps every request's status."""

    def __init__(self, version: str, server, home: Path, work: Path):
        binary = kubectl_binary(version)
        if binary is None:
            pytest.skip(f"kubectl {version} is not installed")
        self.version = version
        self.minor = int(version.split(".")[1])
        self.ns = f"tour-{version.replace('.', '-')}"
        self.node = f"tour-node-{version.replace('.', '-')}"
        # -v=8 last: __call__ drops it for the one command whose log is not klog-shaped
        self.base = [str(binary), f"--kubeconfig={server.kubeconfig}", f"--cache-dir={home / version}", "-v=8"]
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.env["HOME"] = str(home)
        self.work = work
        self.exchanges: list[tuple[str, Exchange]] = []

    def check_stderr(self, args, cp_stderr: str) -> list[str]:
        exchanges, visible = split_stderr(cp_stderr)
        self.exchanges += [(" ".join(args), e) for e in exchanges]
        noise = KNOWN_STDERR.get(self.version, [])
        return [line for line in visible if not any(re.search(n, line) for n in noise)]

    def __call__(self, *args: str, input: str | None = None, fails: bool = False, env: dict | None = None,
                 verbose: bool = True) -> str:
        base = self.base if verbose else self.base[:-1]
        cp = subprocess.run([*base, *args], input=input, capture_output=True, text=True,
                            env={**self.env, **(env or {})}, timeout=60)
        visible = self.check_stderr(args, cp.stderr)
        if fails:
            assert cp.returncode != 0, f"kubectl {self.version} {' '.join(args)} should have failed"
            return "\n".join(visible)
        assert cp.returncode == 0 and not visible, (
            f"kubectl {self.version} {' '.join(args)} exited {cp.returncode}\nstdout:\n{cp.stdout}\n"
            f"stderr (log removed):\n" + "\n".join(visible))
        return cp.stdout

    def n(self, *args: str, **kw) -> str:
        return self(f"--namespace={self.ns}", *args, **kw)

    def start(self, *args: str) -> tuple[subprocess.Popen, list[str]]:
        """Start a long-running command; return once its log shows the watch request went out."""
        proc = subprocess.Popen([*self.base, f"--namespace={self.ns}", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        watchdog(proc)
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "watch=true" in line and ("GET " in line or '"Request"' in line):
                break
        return proc, seen

    def finish(self, started: tuple[subprocess.Popen, list[str]], args: list[str]) -> str:
        proc, seen = started
        out, err = proc.communicate(timeout=30)
        visible = self.check_stderr(args, "".join(seen) + err)
        assert proc.returncode == 0 and not visible, (args, proc.returncode, out, visible)
        return out

    def write(self, name: str, text: str) -> str:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)

    def unexpected_404s(self) -> list[str]:
        bad = []
        for cmd, e in self.exchanges:
            if e.status == 406 or (e.status == 404 and not any(
                    re.search(cmd_rx, cmd) and e.verb == verb and re.search(rx, e.url)
                    for cmd_rx, verb, rx, _ in EXPECTED_404)):
                bad.append(f"{e.status} {e.verb} {e.url}  (kubectl {cmd})")
        return bad


def lines(text: str) -> list[str]:
    return sorted(text.strip().splitlines())


def apply_steps(k: Tour) -> None:
    version = k("version")
    # 1.27 prints version.Info{...}, later versions the short form
    assert re.search(r'Server Version: (v1\.33\.|version\.Info\{Major:"1", Minor:"33")', version), version
    app = k.write("app.yaml", APP)
    assert k("create", "namespace", k.ns).strip() == f"namespace/{k.ns} created"
    assert lines(k.n("apply", "-f", app)) == ["configmap/settings created", "pod/web created",
                                              "secret/creds created", "service/websvc created"]
    assert lines(k.n("apply", "-f", app)) == ["configmap/settings unchanged", "pod/web unchanged",
                                              "secret/creds unchanged", "service/websvc unchanged"]
    assert lines(k.n("apply", "-f", k.write("app-changed.yaml", APP_CHANGED))) == [
        "configmap/settings configured", "pod/web unchanged", "secret/creds unchanged",
        "service/websvc configured"]
    assert json.loads(k.n("get", "cm", "settings", "-o", "json"))["data"] == {"mode": "slow"}
    assert json.loads(k.n("get", "svc", "websvc", "-o", "json"))["metadata"]["labels"] == {"app": "tour"}

    k.write("dir/extra.yaml", DIR_EXTRA)
    k.write("dir/rc.yaml", DIR_RC)
    assert lines(k.n("apply", "-f", str(k.work / "dir"))) == ["configmap/extra created",
                                                               "replicationcontroller/rc1 created"]
    allow = [f"--prune-allowlist={kind}" for kind in PRUNE_KINDS]
    out = k.n("apply", "--prune", "-l", "app=tour", *allow, "-f", str(k.work / "app-changed.yaml"))
    assert "configmap/extra pruned" in out.splitlines(), out
    assert k.n("get", "cm", "-l", "app=tour", "-o", "name").split() == ["configmap/settings"]
    assert k.n("get", "rc", "-o", "name").split() == ["replicationcontroller/rc1"]


def get_steps(k: Tour) -> None:
    wide = k.n("get", "pods", "-o", "wide").splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED",
                               "NODE", "READINESS", "GATES"]
    assert wide[1].split()[:3] == ["web", "0/1", "Pending"]
    pod = yaml.safe_load(k.n("get", "pod", "web", "-o", "yaml"))
    assert pod["kind"] == "Pod" and pod["metadata"]["namespace"] == k.ns and pod["spec"]["containers"][0]["name"] == "c"
    assert json.loads(k.n("get", "secret", "creds", "-o", "json"))["data"] == {"user": "YWRtaW4="}
    assert lines(k.n("get", "pods,svc,cm,secrets", "-o", "name")) == [
        "configmap/settings", "pod/web", "secret/creds", "service/websvc"]
    cols = k.n("get", "pods,svc", "-o", "custom-columns=NAME:.metadata.name,KIND:.kind,APP:.metadata.labels.app")
    assert [line.split() for line in cols.splitlines()] == [
        ["NAME", "KIND", "APP"], ["web", "Pod", "tour"], ["websvc", "Service", "tour"]]
    assert k.n("get", "cm", "settings", "-o", "jsonpath={.data.mode}") == "slow"
    assert k.n("get", "pods,svc", "-o", "jsonpath={range .items[*]}{.metadata.name};{end}") == "web;websvc;"

    k.n("create", "configmap", "aaa-first", "--from-literal=x=1")
    by_name = [line.split()[0] for line in k.n("get", "cm", "--sort-by=.metadata.name").splitlines()[1:]]
    assert by_name == ["aaa-first", "settings"]
    by_time = [line.split()[0] for line in
               k.n("get", "cm", "--sort-by=.metadata.resourceVersion").splitlines()[1:]]
    assert by_time == ["settings", "aaa-first"]

    shown = k.n("get", "pods", "--show-labels").splitlines()
    assert shown[0].split()[-1] == "LABELS" and shown[1].split()[-1] == "app=tour,tier=front"
    assert k.n("get", "all", "-l", "tier=front", "-o", "name").split() == ["pod/web"]
    assert k.n("get", "pods", "--field-selector=status.phase=Pending", "-o", "name").split() == ["pod/web"]
    assert k.n("get", "cm", "--field-selector=metadata.name!=settings", "-o", "name").split() == [
        "configmap/aaa-first"]
    everywhere = k("get", "configmaps", "-A").splitlines()
    assert everywhere[0].split() == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert any(line.split()[:2] == [k.ns, "settings"] for line in everywhere)


def describe_steps(k: Tour) -> None:
    lease = f"""
apiVersion: v1
kind: Node
metadata: {{name: {k.node}, labels: {{kubernetes.io/hostname: {k.node}, tour: "yes"}}}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {{name: {k.node}, namespace: kube-node-lease}}
spec: {{holderIdentity: {k.node}, leaseDurationSeconds: 40, renewTime: "{_now()[:-1]}.000000Z"}}
"""
    assert lines(k("create", "-f", k.write("node.yaml", lease))) == [
        f"lease.coordination.k8s.io/{k.node} created", f"node/{k.node} created"]
    # (describe's resource name, kind, object name, namespace of the object and of its Event)
    described = [("pod", "Pod", "web", k.ns), ("service", "Service", "websvc", k.ns),
                 ("configmap", "ConfigMap", "settings", k.ns), ("rc", "ReplicationController", "rc1", k.ns),
                 ("node", "Node", k.node, "")]
    events = []
    for res, kind, name, ns in described:
        get_uid = ("get", res, name, "-o", "jsonpath={.metadata.uid}")
        uid = k.n(*get_uid) if ns else k(*get_uid)
        events.append({"apiVersion": "v1", "kind": "Event",
                       "metadata": {"name": f"{name}.tour-{res}", "namespace": ns or "default"},
                       "involvedObject": {"apiVersion": "v1", "kind": kind, "name": name, "uid": uid, "namespace": ns},
                       "reason": "TourCheck", "message": f"tour saw {kind} {name}", "type": "Normal",
                       "source": {"component": "tour"}, "count": 1, "firstTimestamp": _now(), "lastTimestamp": _now()})
    created = k("create", "-f", k.write("events.yaml", yaml.safe_dump_all(events)))
    assert len(created.splitlines()) == len(described), created

    for res, kind, name, _ in described:
        out = k.n("describe", res, name)
        assert re.search(rf"^Name:\s+{re.escape(name)}$", out, re.M), out
        events_part = out.split("\nEvents:", 1)[1]
        assert re.search(rf"Normal\s+TourCheck\s+\S+\s+tour\s+tour saw {kind} {re.escape(name)}", events_part), out
    node = k("describe", "node", k.node)
    assert "Failed to get lease" not in node and "Non-terminated Pods:" in node
    secret = k.n("describe", "secret", "creds")
    assert re.search(r"^user:\s+5 bytes$", secret, re.M) and "Events:" not in secret   # kubectl never asks
    ns = k("describe", "namespace", k.ns)
    assert re.search(r"^Status:\s+Active$", ns, re.M) and "No resource quota." in ns

    table = k.n("events").splitlines()
    assert table[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert sum("TourCheck" in line for line in table) == 4, table
    for_pod = k.n("events", "--for", "pod/web").splitlines()
    assert len(for_pod) == 2 and "Pod/web" in for_pod[1] and "tour saw Pod web" in for_pod[1]


def wait_steps(k: Tour) -> None:
    cond_args = ["wait", "--for=condition=TourReady", "pod/web", "--timeout=20s"]
    waiter = k.start(*cond_args)
    k.n("patch", "pod", "web", "--subresource=status", "--type=merge",
        "-p", '{"status":{"conditions":[{"type":"TourReady","status":"True"}]}}')
    assert k.finish(waiter, cond_args).strip() == "pod/web condition met"
    assert k.n("wait", "--for=jsonpath={.status.phase}=Pending", "pod/web", "--timeout=20s").strip() == \
        "pod/web condition met"
    del_args = ["wait", "--for=delete", "configmap/aaa-first", "--timeout=20s"]
    waiter = k.start(*del_args)
    k.n("delete", "configmap", "aaa-first", "--wait=false")
    assert k.finish(waiter, del_args).strip() == "configmap/aaa-first condition met"


def watch_steps(k: Tour) -> None:
    args = ["get", "configmaps", "--watch-only", "--output-watch-events"]
    proc, seen = k.start(*args)
    try:
        k.n("create", "configmap", "watched", "--from-literal=a=1")
        k.n("label", "configmap", "watched", "x=y")
        k.n("delete", "configmap", "watched")
        events = []
        for line in proc.stdout:   # ends at DELETED, or at EOF if kubectl died
            fields = line.split()
            if fields and fields[0] in ("ADDED", "MODIFIED", "DELETED"):
                events.append(fields[:2])
            if fields[:1] == ["DELETED"]:
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert events == [["ADDED", "watched"], ["MODIFIED", "watched"], ["DELETED", "watched"]], events
    assert k.check_stderr(args, "".join(seen) + err) == []


def write_steps(k: Tour) -> None:
    dry = yaml.safe_load(k.n("create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server", "-o", "yaml"))
    assert dry["metadata"]["name"] == "dry" and dry["metadata"]["uid"] and dry["data"] == {"a": "b"}
    assert "NotFound" in k.n("get", "configmap", "dry", fails=True)
    k.n("patch", "configmap", "settings", "--dry-run=server", "-p", '{"data":{"mode":"dry"}}')
    assert k.n("get", "cm", "settings", "-o", "jsonpath={.data.mode}") == "slow"

    editor = k.write("editor.sh", "#!/bin/sh\nsed -i 's/mode: slow/mode: edited/' \"$1\"\n")
    os.chmod(editor, 0o755)
    # edit at -v=8 dumps the edited file unprefixed on stderr, so it alone runs at normal verbosity
    edited = k.n("edit", "cm", "settings", env={"KUBE_EDITOR": editor}, verbose=False)
    assert edited.strip() == "configmap/settings edited"
    assert k.n("get", "cm", "settings", "-o", "jsonpath={.data.mode}") == "edited"

    assert k.n("label", "cm", "settings", "color=blue").strip() == "configmap/settings labeled"
    # kubectl 1.27's annotate prints the bare verb (its own printer; fixed in 1.28)
    annotated = "configmap/settings annotate" if k.minor == 27 else "configmap/settings annotated"
    assert k.n("annotate", "cm", "settings", "note=hi").strip() == annotated
    cm = json.loads(k.n("get", "cm", "settings", "-o", "json"))
    assert cm["metadata"]["labels"] == {"app": "tour", "color": "blue"}
    assert cm["metadata"]["annotations"]["note"] == "hi"
    cm["data"] = {"replaced": "yes"}
    assert k.n("replace", "-f", "-", input=json.dumps(cm)).strip() == "configmap/settings replaced"
    assert k.n("get", "cm", "settings", "-o", "jsonpath={.data}") == '{"replaced":"yes"}'

    assert k.n("scale", "rc", "rc1", "--replicas=3").strip() == "replicationcontroller/rc1 scaled"
    assert k.n("get", "rc", "rc1", "-o", "jsonpath={.spec.replicas}") == "3"
    assert k.n("scale", "rc", "rc1", "--current-replicas=3", "--replicas=2").strip() == \
        "replicationcontroller/rc1 scaled"
    assert k.n("get", "rc", "rc1", "-o", "jsonpath={.spec.replicas}") == "2"
    scale_calls = {(e.verb, e.status) for cmd, e in k.exchanges
                   if " scale " in f" {cmd} " and e.url.split("?")[0].endswith("/replicationcontrollers/rc1/scale")}
    assert scale_calls and all(status == 200 for _, status in scale_calls), scale_calls

    # stringData is write-only: the server folds it into data
    k.n("create", "-f", "-", input=json.dumps(
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "typed"}, "stringData": {"token": "s3cret"}}))
    typed = json.loads(k.n("get", "secret", "typed", "-o", "json"))
    assert typed["data"] == {"token": "czNjcmV0"} and "stringData" not in typed

    # a timestamp that does not parse makes the body undecodable (400), as upstream
    bad_lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "bad"},
                 "spec": {"renewTime": "yesterday"}}
    err = k.n("create", "-f", "-", input=json.dumps(bad_lease), fails=True)
    assert ('Error from server (BadRequest): error when creating "STDIN": Lease in version "v1" cannot be handled '
            'as a Lease: parsing time "yesterday" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "yesterday" '
            'as "2006"') in err, err

    assert k.n("delete", "pod", "web", "--wait=true", "--timeout=30s").strip() == 'pod "web" deleted'
    assert k.n("get", "pods", "-o", "name") == ""


def proxy_steps(k: Tour) -> None:
    proxy = subprocess.Popen([*k.base, "proxy", "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=k.env)
    watchdog(proxy)
    try:
        first = proxy.stdout.readline()
        m = re.match(r"Starting to serve on 127\.0\.0\.1:(\d+)", first)
        assert m, first
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no http_proxy from the env
        with direct.open(f"http://127.0.0.1:{m.group(1)}/api", timeout=10) as r:
            body = json.loads(r.read())
        assert body["kind"] == "APIVersions" and body["versions"] == ["v1"]
        with direct.open(f"http://127.0.0.1:{m.group(1)}/api/v1/namespaces/{k.ns}", timeout=10) as r:
            assert json.loads(r.read())["metadata"]["name"] == k.ns
    finally:
        proxy.terminate()
        _, err = proxy.communicate(timeout=10)
    assert k.check_stderr(["proxy"], err) == []


def cleanup(k: Tour) -> None:
    k("delete", "node", k.node, "--wait=false")
    k("delete", "namespace", k.ns, "--wait=false")


@pytest.mark.parametrize("version", kubectl_versions() or ["1.33"])
def test_kubectl_tour(version, server, tmp_path, tmp_path_factory):
    k = Tour(version, server, tmp_path_factory.mktemp("tour-home"), tmp_path)
    apply_steps(k)
    get_steps(k)
    describe_steps(k)
    wait_steps(k)
    watch_steps(k)
    write_steps(k)
    proxy_steps(k)
    cleanup(k)
    assert len(k.exchanges) > 100, "the -v=8 log reader found too few requests: has the log layout changed?"
    assert k.unexpected_404s() == []
    statuses = sorted({e.status for _, e in k.exchanges})
    excused = sorted({f"{e.verb} {e.url}" for _, e in k.exchanges if e.status == 404})
    print(f"kubectl {version}: {len(k.exchanges)} requests, statuses {statuses}, expected 404s: {excused}")
