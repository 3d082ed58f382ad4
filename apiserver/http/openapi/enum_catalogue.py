"""Which fields of the 1.33 API carry `enum` in kube-apiserver's OpenAPI documents.

Upstream publishes `enum` on a field whose Go type is marked `+enum`, listing that
type's constants, sorted. This table is those facts, read from the upstream API types
(k8s.io/api core, apps, batch, autoscaling/v2, networking, discovery, policy,
scheduling, storage, admissionregistration): each `+enum` type with its values, and
the direct fields of that type. List fields of an enum type (accessModes,
ipFamilies, policyTypes, scopes) carry no `enum` of their own and are not listed;
string types without the marker (LimitType, SecretType, OSName, StorageMedium,
ContainerRestartPolicy, DaemonSetUpdateStrategyType, ...) carry none either.
"""
from __future__ import annotations

TYPES: dict[str, tuple[str, ...]] = {
    # core/v1
    "AzureDataDiskCachingMode": ("None", "ReadOnly", "ReadWrite"),
    "AzureDataDiskKind": ("Dedicated", "Managed", "Shared"),
    "AppArmorProfileType": ("Localhost", "RuntimeDefault", "Unconfined"),
    "DNSPolicy": ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
    "HostPathType": ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                     "Socket"),
    "IPFamilyPolicy": ("PreferDualStack", "RequireDualStack", "SingleStack"),
    "MountPropagationMode": ("Bidirectional", "HostToContainer", "None"),
    "NamespacePhase": ("Active", "Terminating"),
    "NodeInclusionPolicy": ("Honor", "Ignore"),
    "NodePhase": ("Pending", "Running", "Terminated"),
    "NodeSelectorOperator": ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"),
    "PersistentVolumeClaimModifyVolumeStatus": ("InProgress", "Infeasible", "Pending"),
    "PersistentVolumeClaimPhase": ("Bound", "Lost", "Pending"),
    "PersistentVolumeMode": ("Block", "Filesystem"),
    "PersistentVolumePhase": ("Available", "Bound", "Failed", "Pending", "Released"),
    "PersistentVolumeReclaimPolicy": ("Delete", "Recycle", "Retain"),
    "PodFSGroupChangePolicy": ("Always", "OnRootMismatch"),
    "PodPhase": ("Failed", "Pending", "Running", "Succeeded", "Unknown"),
    "PodQOSClass": ("BestEffort", "Burstable", "Guaranteed"),
    "PreemptionPolicy": ("Never", "PreemptLowerPriority"),
    "ProcMountType": ("Default", "Unmasked"),
    "Protocol": ("SCTP", "TCP", "UDP"),
    "PullPolicy": ("Always", "IfNotPresent", "Never"),
    "ResourceQuotaScope": ("BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating",
                           "PriorityClass", "Terminating"),
    "RestartPolicy": ("Always", "Never", "OnFailure"),
    "ScopeSelectorOperator": ("DoesNotExist", "Exists", "In", "NotIn"),
    "SeccompProfileType": ("Localhost", "RuntimeDefault", "Unconfined"),
    "ServiceAffinity": ("ClientIP", "None"),
    "ServiceExternalTrafficPolicy": ("Cluster", "Local"),
    "ServiceInternalTrafficPolicy": ("Cluster", "Local"),
    "ServiceType": ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
    "SupplementalGroupsPolicy": ("Merge", "Strict"),
    "TaintEffect": ("NoExecute", "NoSchedule", "PreferNoSchedule"),
    "TerminationMessagePolicy": ("FallbackToLogsOnError", "File"),
    "TolerationOperator": ("Equal", "Exists"),
    "URIScheme": ("HTTP", "HTTPS"),
    "UnsatisfiableConstraintAction": ("DoNotSchedule", "ScheduleAnyway"),
    # apps/v1
    "DeploymentStrategyType": ("Recreate", "RollingUpdate"),
    "PodManagementPolicyType": ("OrderedReady", "Parallel"),
    "StatefulSetUpdateStrategyType": ("OnDelete", "RollingUpdate"),
    # batch/v1
    "CompletionMode": ("Indexed", "NonIndexed"),
    "ConcurrencyPolicy": ("Allow", "Forbid", "Replace"),
    "PodFailurePolicyAction": ("Count", "FailIndex", "FailJob", "Ignore"),
    "PodFailurePolicyOnExitCodesOperator": ("In", "NotIn"),
    "PodReplacementPolicy": ("Failed", "TerminatingOrFailed"),
    # autoscaling/v2
    "MetricSourceType": ("ContainerResource", "External", "Object", "Pods", "Resource"),
    # networking.k8s.io/v1, discovery.k8s.io/v1, policy/v1, storage.k8s.io/v1
    "PathType": ("Exact", "ImplementationSpecific", "Prefix"),
    "AddressType": ("FQDN", "IPv4", "IPv6"),
    "UnhealthyPodEvictionPolicyType": ("AlwaysAllow", "IfHealthyBudget"),
    "VolumeBindingMode": ("Immediate", "WaitForFirstConsumer"),
    # admissionregistration.k8s.io/v1
    "FailurePolicyType": ("Fail", "Ignore"),
    "MatchPolicyType": ("Equivalent", "Exact"),
    "ReinvocationPolicyType": ("IfNeeded", "Never"),
    "ScopeType": ("*", "Cluster", "Namespaced"),
    "SideEffectClass": ("None", "NoneOnDryRun", "Some", "Unknown"),
}

_CORE = "io.k8s.api.core.v1."
_CONTAINERS = ("Container", "EphemeralContainer")


def _core(fields: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    return {(_CORE + d, p): t for (d, p), t in fields.items()}


FIELDS: dict[tuple[str, str], str] = {
    **_core({
        ("AzureDiskVolumeSource", "cachingMode"): "AzureDataDiskCachingMode",
        ("AzureDiskVolumeSource", "kind"): "AzureDataDiskKind",
        ("AppArmorProfile", "type"): "AppArmorProfileType",
        ("ContainerPort", "protocol"): "Protocol",
        ("EndpointPort", "protocol"): "Protocol",
        ("HTTPGetAction", "scheme"): "URIScheme",
        ("HostPathVolumeSource", "type"): "HostPathType",
        ("ModifyVolumeStatus", "status"): "PersistentVolumeClaimModifyVolumeStatus",
        ("NamespaceStatus", "phase"): "NamespacePhase",
        ("NodeSelectorRequirement", "operator"): "NodeSelectorOperator",
        ("NodeStatus", "phase"): "NodePhase",
        ("PersistentVolumeClaimSpec", "volumeMode"): "PersistentVolumeMode",
        ("PersistentVolumeClaimStatus", "phase"): "PersistentVolumeClaimPhase",
        ("PersistentVolumeSpec", "persistentVolumeReclaimPolicy"): "PersistentVolumeReclaimPolicy",
        ("PersistentVolumeSpec", "volumeMode"): "PersistentVolumeMode",
        ("PersistentVolumeStatus", "phase"): "PersistentVolumePhase",
        ("PodSecurityContext", "fsGroupChangePolicy"): "PodFSGroupChangePolicy",
        ("PodSecurityContext", "supplementalGroupsPolicy"): "SupplementalGroupsPolicy",
        ("PodSpec", "dnsPolicy"): "DNSPolicy",
        ("PodSpec", "preemptionPolicy"): "PreemptionPolicy",
        ("PodSpec", "restartPolicy"): "RestartPolicy",
        ("PodStatus", "phase"): "PodPhase",
        ("PodStatus", "qosClass"): "PodQOSClass",
        ("PortStatus", "protocol"): "Protocol",
        ("ScopedResourceSelectorRequirement", "operator"): "ScopeSelectorOperator",
        ("ScopedResourceSelectorRequirement", "scopeName"): "ResourceQuotaScope",
        ("SeccompProfile", "type"): "SeccompProfileType",
        ("SecurityContext", "procMount"): "ProcMountType",
        ("ServicePort", "protocol"): "Protocol",
        ("ServiceSpec", "externalTrafficPolicy"): "ServiceExternalTrafficPolicy",
        ("ServiceSpec", "internalTrafficPolicy"): "ServiceInternalTrafficPolicy",
        ("ServiceSpec", "ipFamilyPolicy"): "IPFamilyPolicy",
        ("ServiceSpec", "sessionAffinity"): "ServiceAffinity",
        ("ServiceSpec", "type"): "ServiceType",
        ("Taint", "effect"): "TaintEffect",
        ("Toleration", "effect"): "TaintEffect",
        ("Toleration", "operator"): "TolerationOperator",
        ("TopologySpreadConstraint", "nodeAffinityPolicy"): "NodeInclusionPolicy",
        ("TopologySpreadConstraint", "nodeTaintsPolicy"): "NodeInclusionPolicy",
        ("TopologySpreadConstraint", "whenUnsatisfiable"): "UnsatisfiableConstraintAction",
        ("VolumeMount", "mountPropagation"): "MountPropagationMode",
    }),
    **{(_CORE + c, "imagePullPolicy"): "PullPolicy" for c in _CONTAINERS},
    **{(_CORE + c, "terminationMessagePolicy"): "TerminationMessagePolicy" for c in _CONTAINERS},
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): "DeploymentStrategyType",
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy"): "PodManagementPolicyType",
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type"): "StatefulSetUpdateStrategyType",
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy"): "ConcurrencyPolicy",
    ("io.k8s.api.batch.v1.JobSpec", "completionMode"): "CompletionMode",
    ("io.k8s.api.batch.v1.JobSpec", "podReplacementPolicy"): "PodReplacementPolicy",
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", "action"): "PodFailurePolicyAction",
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "operator"): "PodFailurePolicyOnExitCodesOperator",
    ("io.k8s.api.autoscaling.v2.MetricSpec", "type"): "MetricSourceType",
    ("io.k8s.api.autoscaling.v2.MetricStatus", "type"): "MetricSourceType",
    ("io.k8s.api.networking.v1.HTTPIngressPath", "pathType"): "PathType",
    ("io.k8s.api.networking.v1.NetworkPolicyPort", "protocol"): "Protocol",
    ("io.k8s.api.discovery.v1.EndpointSlice", "addressType"): "AddressType",
    ("io.k8s.api.discovery.v1.EndpointPort", "protocol"): "Protocol",
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): "UnhealthyPodEvictionPolicyType",
    ("io.k8s.api.scheduling.v1.PriorityClass", "preemptionPolicy"): "PreemptionPolicy",
    ("io.k8s.api.storage.v1.StorageClass", "reclaimPolicy"): "PersistentVolumeReclaimPolicy",
    ("io.k8s.api.storage.v1.StorageClass", "volumeBindingMode"): "VolumeBindingMode",
    **{("io.k8s.api.admissionregistration.v1." + w, "failurePolicy"): "FailurePolicyType"
       for w in ("MutatingWebhook", "ValidatingWebhook", "ValidatingAdmissionPolicySpec")},
    **{("io.k8s.api.admissionregistration.v1." + w, "matchPolicy"): "MatchPolicyType"
       for w in ("MutatingWebhook", "ValidatingWebhook", "MatchResources")},
    **{("io.k8s.api.admissionregistration.v1." + w, "sideEffects"): "SideEffectClass"
       for w in ("MutatingWebhook", "ValidatingWebhook")},
    ("io.k8s.api.admissionregistration.v1.MutatingWebhook", "reinvocationPolicy"): "ReinvocationPolicyType",
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", "scope"): "ScopeType",
    ("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "scope"): "ScopeType",
}
