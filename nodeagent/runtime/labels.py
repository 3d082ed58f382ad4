"""Labels the node agent puts on Podman pods and containers.

They carry everything needed to map a runtime object back to its Kubernetes pod,
so a restarted agent can adopt running containers instead of recreating them.
"""

POD_UID = "io.pocketkube.pod.uid"
POD_NAMESPACE = "io.pocketkube.pod.namespace"
POD_NAME = "io.pocketkube.pod.name"
CONTAINER_NAME = "io.pocketkube.container.name"
RESTART_COUNT = "io.pocketkube.container.restartCount"
# "init" or "app": init containers must be told apart after an agent restart.
CONTAINER_KIND = "io.pocketkube.container.kind"
# Hash of the container spec: a changed spec (image update) means a new container.
SPEC_HASH = "io.pocketkube.container.specHash"
# The node that owns the object: several agents may share one Podman.
NODE_NAME = "io.pocketkube.node"
# The cluster that owns it (cluster_identity): clusters on one host may reuse a node name.
CLUSTER = "io.pocketkube.cluster"


def cluster_identity(ca_pem: str | None, server: str) -> str:
    """A short stable name of the cluster an agent serves: a hash of its CA (each cluster
    makes its own), or of the API server's address when there is none."""
    import hashlib

    return hashlib.sha256((ca_pem or server).encode()).hexdigest()[:12]


def owner_labels(node: str, cluster: str) -> dict[str, str]:
    return {NODE_NAME: node, CLUSTER: cluster}


def pod_labels(node: str, namespace: str, name: str, uid: str) -> dict[str, str]:
    return {NODE_NAME: node, POD_NAMESPACE: namespace, POD_NAME: name, POD_UID: uid}


def sandbox_name(namespace: str, name: str, uid: str) -> str:
    """Podman pod names must be unique per host; the uid prefix keeps a
    recreated pod of the same name from colliding with a dying one."""
    return f"k8s_{namespace}_{name}_{uid[:8]}"


def container_name(namespace: str, pod: str, uid: str, container: str, attempt: int) -> str:
    return f"k8s_{namespace}_{pod}_{uid[:8]}_{container}_{attempt}"
