"""Per-kind logic through a real server: kubectl sees upstream's defaults,
tables and 422s; concurrent Service creates never share an address or port."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import yaml


def test_bad_pod_is_refused_with_upstream_wording(kubectl, namespace):
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Pod"},
                "spec": {"restartPolicy": "Sometimes", "containers": [{"name": "c"}]}}
    cp = kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(manifest), check=False)
    assert cp.returncode != 0
    err = cp.stderr
    assert 'The Pod "Bad_Pod" is invalid:' in err
    assert 'metadata.name: Invalid value: "Bad_Pod": a lowercase RFC 1123 subdomain must consist of' in err
    assert "spec.containers[0].image: Required value" in err
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' in err


def test_kubectl_run_shows_upstream_defaults(kubectl, namespace):
    kubectl("-n", namespace, "run", "web", "--image=busybox:1.36", "--port=8080")
    pod = yaml.safe_load(kubectl("-n", namespace, "get", "pod", "web", "-o", "yaml").stdout)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["schedulerName"] == "default-scheduler"
    assert spec["enableServiceLinks"] is True and spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority" and spec["securityContext"] == {}
    assert spec["serviceAccountName"] == "default"
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent" and c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File" and c["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert c["volumeMounts"][0]["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert spec["volumes"][0]["name"].startswith("kube-api-access-")
    assert {t["key"] for t in spec["tolerations"]} == {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
    assert pod["status"]["qosClass"] == "BestEffort" and pod["status"]["phase"] == "Pending"


def test_tables_for_pods_and_services(kubectl, namespace):
    kubectl("-n", namespace, "run", "tab", "--image=busybox")
    kubectl("-n", namespace, "create", "service", "nodeport", "tab", "--tcp=80:8080")
    out = kubectl("-n", namespace, "get", "pods").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert out[1].split()[:4] == ["tab", "0/1", "Pending", "0"]
    wide = kubectl("-n", namespace, "get", "pods", "-o", "wide").stdout.splitlines()[0]
    assert "NOMINATED NODE" in wide and "READINESS GATES" in wide
    svc = kubectl("-n", namespace, "get", "svc", "tab").stdout.splitlines()
    assert svc[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    name, kind, ip, ext, ports = svc[1].split()[:5]
    assert (name, kind, ext) == ("tab", "NodePort", "<none>") and ip.startswith("10.")
    assert ports.startswith("80:3") and ports.endswith("/TCP")


def test_duplicate_node_port_and_cluster_ip(kubectl, namespace):
    def svc(name, node_port=None, cluster_ip=None):
        port = {"port": 80, "targetPort": 80}
        if node_port:
            port["nodePort"] = node_port
        spec = {"type": "NodePort", "selector": {"app": name}, "ports": [port]}
        if cluster_ip:
            spec["clusterIP"] = cluster_ip
        return json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})

    kubectl("-n", namespace, "create", "-f", "-", input=svc("first"))
    first = json.loads(kubectl("-n", namespace, "get", "svc", "first", "-o", "json").stdout)["spec"]
    port = first["ports"][0]["nodePort"]
    cp = kubectl("-n", namespace, "create", "-f", "-", input=svc("second", node_port=port), check=False)
    assert cp.returncode != 0
    assert (f'The Service "second" is invalid: spec.ports[0].nodePort: Invalid value: {port}: '
            "provided port is already allocated") in cp.stderr
    ip = first["clusterIP"]
    cp = kubectl("-n", namespace, "create", "-f", "-", input=svc("third", cluster_ip=ip), check=False)
    assert (f'spec.clusterIPs: Invalid value: ["{ip}"]: failed to allocate IP {ip}: '
            "provided IP is already allocated") in cp.stderr
    kubectl("-n", namespace, "delete", "svc", "first")
    kubectl("-n", namespace, "create", "-f", "-", input=svc("second", node_port=port))  # released on delete


def test_immutable_configmap(kubectl, namespace):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen"}, "data": {"a": "1"}, "immutable": True}
    kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(cm))
    cp = kubectl("-n", namespace, "patch", "configmap", "frozen", "-p", '{"data":{"a":"2"}}', check=False)
    assert cp.returncode != 0
    assert ('The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
            in cp.stderr)


def test_concurrent_service_creates_never_share(api_client, namespace):
    """Many clients at once: every clusterIP and nodePort handed out exactly once."""
    from kubernetes import client

    def create(i: int):
        core = client.CoreV1Api(api_client)
        body = client.V1Service(metadata=client.V1ObjectMeta(name=f"svc-{i}"), spec=client.V1ServiceSpec(
            type="NodePort", selector={"app": "x"}, ports=[client.V1ServicePort(port=80, target_port=80)]))
        return core.create_namespaced_service(namespace, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, range(40)))
    ips = [s.spec.cluster_ip for s in created]
    ports = [s.spec.ports[0].node_port for s in created]
    assert len(set(ips)) == 40 and len(set(ports)) == 40
    listed = client.CoreV1Api(api_client).list_service_for_all_namespaces().items
    all_ips = [s.spec.cluster_ip for s in listed if s.spec.cluster_ip not in (None, "None")]
    assert len(all_ips) == len(set(all_ips))
