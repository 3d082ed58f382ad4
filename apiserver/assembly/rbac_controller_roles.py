"""The controllers' own roles, for a controller manager run with --use-service-account-credentials
(as kubeadm and `pocketkube up` run it): upstream's `system:controller:<account>` ClusterRoles,
each bound to the ServiceAccount kube-system/<account> that one controller writes as, and
`system:kube-controller-manager`, the manager's own identity's: only what the manager itself
does (leader election, the controllers' accounts and their tokens, and listing and watching
everything for the informers it shares with them).

The rules are written from what each of our controllers calls (controllers/), in upstream's
shape; informers are shared and run as the manager, but each controller may still read what it
watches. The scheduler, which here runs inside the manager, writes as kube-system/kube-scheduler
with the scheduler's own roles (rbac_component_roles.py).
"""
from __future__ import annotations

PREFIX = "system:controller:"
_READ = ["get", "list", "watch"]
_ALL = [*_READ, "create", "update", "patch", "delete"]
_EVENTS = [{"verbs": ["create", "update", "patch"], "apiGroups": ["", "events.k8s.io"], "resources": ["events"]}]


def _r(verbs: list[str], group: str, *resources: str, names: list[str] | None = None) -> dict:
    rule = {"verbs": verbs, "apiGroups": [group], "resources": list(resources)}
    if names:
        rule["resourceNames"] = names
    return rule


_CSR = "certificates.k8s.io"

# account -> rules (each account also gets the events rule)
CONTROLLER_ROLES = {
    "namespace-controller": [
        _r(["get", "list", "watch", "delete"], "", "namespaces"),
        _r(["update"], "", "namespaces/finalize", "namespaces/status"),
        _r(["get", "list", "watch", "delete", "deletecollection"], "*", "*")],
    "service-account-controller": [
        _r(_READ, "", "namespaces", "serviceaccounts"), _r(["create"], "", "serviceaccounts")],
    "root-ca-cert-publisher": [
        _r(_READ, "", "namespaces", "configmaps"), _r(["create", "update"], "", "configmaps")],
    "endpoint-controller": [
        _r(_READ, "", "services", "pods"),
        _r([*_READ, "create", "update", "delete"], "", "endpoints"),
        _r(["create"], "", "endpoints/restricted")],
    "endpointslice-controller": [
        _r(_READ, "", "services", "pods", "nodes"),
        _r(["update"], "", "services/finalizers"),
        _r([*_READ, "create", "update", "delete"], "discovery.k8s.io", "endpointslices")],
    "replication-controller": [
        _r([*_READ, "update"], "", "replicationcontrollers"),
        _r(["update"], "", "replicationcontrollers/status", "replicationcontrollers/finalizers"),
        _r(["list", "watch", "patch", "create", "delete"], "", "pods")],
    "replicaset-controller": [
        _r([*_READ, "update"], "apps", "replicasets"),
        _r(["update"], "apps", "replicasets/status", "replicasets/finalizers"),
        _r(["list", "watch", "patch", "create", "delete"], "", "pods")],
    "deployment-controller": [
        _r([*_READ, "update", "patch"], "apps", "deployments"),
        _r(["update"], "apps", "deployments/status", "deployments/finalizers"),
        _r(_ALL, "apps", "replicasets"),
        _r([*_READ, "update"], "", "pods")],
    "job-controller": [
        _r([*_READ, "update", "patch", "delete"], "batch", "jobs"),   # delete: a finished Job's TTL
        _r(["update"], "batch", "jobs/status", "jobs/finalizers"),
        _r(["list", "watch", "create", "delete", "patch"], "", "pods")],
    "cronjob-controller": [
        _r([*_READ, "update"], "batch", "cronjobs"),
        _r(["update"], "batch", "cronjobs/status", "cronjobs/finalizers"),
        _r(_ALL, "batch", "jobs"),
        _r(["list", "watch", "delete"], "", "pods")],
    "disruption-controller": [
        _r(_READ, "apps", "deployments", "replicasets", "statefulsets"),
        _r(_READ, "", "replicationcontrollers", "pods"),
        _r(_READ, "policy", "poddisruptionbudgets"),
        _r(["update"], "policy", "poddisruptionbudgets/status"),
        _r(["patch", "update"], "", "pods/status"),
        _r(["get"], "*", "*/scale")],
    "horizontal-pod-autoscaler": [
        _r(_READ, "autoscaling", "horizontalpodautoscalers"),
        _r(["update"], "autoscaling", "horizontalpodautoscalers/status"),
        _r(["get", "update"], "*", "*/scale"),
        _r(["list", "watch"], "", "pods"),
        _r(["get", "list", "watch"], "metrics.k8s.io", "pods"),
        _r(_READ, "custom.metrics.k8s.io", "*"), _r(_READ, "external.metrics.k8s.io", "*")],
    "daemon-set-controller": [
        _r(_READ, "apps", "daemonsets"),
        _r(["update"], "apps", "daemonsets/status", "daemonsets/finalizers"),
        _r(["list", "watch"], "", "nodes"),
        _r(["list", "watch", "create", "delete", "patch"], "", "pods"),
        _r(["create"], "", "pods/binding"),
        _r(_ALL, "apps", "controllerrevisions")],
    "statefulset-controller": [
        _r(_READ, "apps", "statefulsets"),
        _r(["update"], "apps", "statefulsets/status", "statefulsets/finalizers"),
        _r(_ALL, "", "pods"),
        _r(["update"], "", "pods/finalizers"),
        _r(_ALL, "apps", "controllerrevisions"),
        _r(_ALL, "", "persistentvolumeclaims")],
    "generic-garbage-collector": [
        _r(["get", "list", "watch", "patch", "update", "delete"], "*", "*")],
    "pod-garbage-collector": [
        _r(["list", "watch", "delete"], "", "pods"),
        _r(["patch"], "", "pods/status"),
        _r(_READ, "", "nodes")],
    "node-controller": [
        _r([*_READ, "update", "patch", "delete"], "", "nodes"),
        _r(["patch", "update"], "", "nodes/status", "pods/status"),
        _r([*_READ, "delete"], "", "pods"),
        _r(_READ, "coordination.k8s.io", "leases")],
    "persistent-volume-binder": [
        _r([*_READ, "create", "update", "delete"], "", "persistentvolumes"),
        _r(["update"], "", "persistentvolumes/status", "persistentvolumeclaims/status"),
        _r([*_READ, "update"], "", "persistentvolumeclaims"),
        _r(_READ, "", "pods"),
        _r(["list", "watch"], "", "nodes"),
        # the local-path provisioner it runs makes the default StorageClass once
        _r([*_READ, "create"], "storage.k8s.io", "storageclasses")],
    "pvc-protection-controller": [
        _r([*_READ, "update", "patch"], "", "persistentvolumeclaims"),
        _r(_READ, "", "pods")],
    "pv-protection-controller": [
        _r([*_READ, "update", "patch"], "", "persistentvolumes")],
    "ephemeral-volume-controller": [
        _r(_READ, "", "pods"),
        _r(["update"], "", "pods/finalizers"),
        _r([*_READ, "create"], "", "persistentvolumeclaims")],
    "expand-controller": [
        _r([*_READ, "update", "patch"], "", "persistentvolumes"),
        _r(["update", "patch"], "", "persistentvolumeclaims/status"),
        _r(_READ, "", "persistentvolumeclaims")],
    # csrsigning and csrapproving
    "certificate-controller": [
        _r([*_READ, "delete"], _CSR, "certificatesigningrequests"),
        _r(["update"], _CSR, "certificatesigningrequests/status", "certificatesigningrequests/approval"),
        _r(["approve"], _CSR, "signers", names=["kubernetes.io/kube-apiserver-client-kubelet",
                                                "kubernetes.io/kubelet-serving"]),
        _r(["sign"], _CSR, "signers", names=["kubernetes.io/legacy-unknown", "kubernetes.io/kube-apiserver-client",
                                             "kubernetes.io/kube-apiserver-client-kubelet",
                                             "kubernetes.io/kubelet-serving"]),
        _r(["create"], "authorization.k8s.io", "subjectaccessreviews"),
        _r(_READ, "", "nodes")],
}
CONTROLLER_ROLES = {account: [*rules, *_EVENTS] for account, rules in CONTROLLER_ROLES.items()}

# Namespaced as upstream's: the bootstrap signer signs kube-public/cluster-info with the
# bootstrap tokens of kube-system. (cluster role, namespace, rules); each bound in its namespace.
BOOTSTRAP_SIGNER = "bootstrap-signer"
NAMESPACED_CONTROLLER_ROLES = [
    (PREFIX + BOOTSTRAP_SIGNER, "kube-public", [
        _r(_READ, "", "configmaps"), _r(["update"], "", "configmaps", names=["cluster-info"]), *_EVENTS]),
    (PREFIX + BOOTSTRAP_SIGNER + ":tokens", "kube-system", [_r(_READ, "", "secrets")]),
]

# Our scheduler runs in the manager: its account gets the scheduler's own roles.
SCHEDULER_ACCOUNT = "kube-scheduler"
SCHEDULER_ROLES = ["system:kube-scheduler", "system:volume-scheduler"]

# The manager's own identity (user system:kube-controller-manager) under this flag.
MANAGER_USER = "system:kube-controller-manager"
MANAGER_ROLE = [
    *_EVENTS,
    _r(["create"], "coordination.k8s.io", "leases"),
    _r(["get", "update"], "coordination.k8s.io", "leases", names=["kube-controller-manager"]),
    _r(["get", "create"], "", "serviceaccounts"),
    _r(["create"], "", "serviceaccounts/token"),
    _r(["get"], "", "configmaps", "namespaces"),
    _r(["create"], "authentication.k8s.io", "tokenreviews"),
    _r(["create"], "authorization.k8s.io", "subjectaccessreviews"),
    _r(["list", "watch"], "*", "*"),   # the informers it shares with its controllers
]

# Upstream's Role in kube-system for the manager's leader election: any Lease there, so that
# --leader-elect-resource-name may name another than kube-controller-manager (the cluster role
# above allows that one only); bound to the manager's user and its accounts, as upstream binds it.
LEADER_LOCKING = "system::leader-locking-kube-controller-manager"
LEADER_LOCKING_RULES = [
    _r(["watch"], "", "configmaps"),
    _r(["get", "update"], "", "configmaps", names=["kube-controller-manager"]),
    _r(["get", "watch", "list", "create", "update"], "coordination.k8s.io", "leases")]
LEADER_LOCKING_SUBJECTS = [("User", MANAGER_USER), ("ServiceAccount", "kube-controller-manager"),
                           ("ServiceAccount", "leader-election-controller")]
