"""The admission chain: mutating plugins, then validating plugins.

`build_chain(plugin_names, registries, settings) -> (mutate, validate)`: two
AdmitFuncs for the registry (attributes.py). `plugin_names` is --enable-admission-plugins
(None: upstream's default set); plugins run in upstream's fixed order whatever
the order given. Upstream plugin names this server does not implement are
accepted and do nothing; an unknown name is an error, as upstream.
"""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from .default_toleration_seconds import DefaultTolerationSeconds
from .limit_ranger import LimitRanger
from .namespace_lifecycle import NamespaceLifecycle
from .node_restriction import NodeRestriction
from .plugin import AdmissionSettings, Plugin
from .pod_security import PodSecurity
from .priority import Priority
from .pvc_resize import PersistentVolumeClaimResize
from .resource_quota import ResourceQuota
from .runtime_class import RuntimeClass
from .service_account import ServiceAccount
from .storage_protection import DefaultStorageClass, StorageObjectInUseProtection
from .timing import observe_step
from .validating_admission_policy import ValidatingAdmissionPolicy
from .webhooks import MutatingAdmissionWebhook, ValidatingAdmissionWebhook

# Upstream's order (AllOrderedPlugins); only the ones implemented here are classes.
ORDER = (
    "AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists",
    "LimitPodHardAntiAffinityTopology", "LimitRanger", "ServiceAccount", "NodeRestriction",
    "TaintNodesByCondition", "AlwaysPullImages", "ImagePolicyWebhook", "PodSecurity", "PodNodeSelector",
    "Priority", "DefaultTolerationSeconds", "PodTolerationRestriction", "EventRateLimit",
    "ExtendedResourceToleration", "DefaultStorageClass", "StorageObjectInUseProtection",
    "OwnerReferencesPermissionEnforcement", "PersistentVolumeClaimResize", "RuntimeClass",
    "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest", "CertificateSubjectRestriction",
    "DefaultIngressClass", "denyServiceExternalIPs", "MutatingAdmissionPolicy", "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota", "AlwaysDeny",
)

# Upstream's default set, plus NodeRestriction, which kubeadm and k3s turn on (secure by default).
DEFAULT_PLUGINS = (
    "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "NodeRestriction", "TaintNodesByCondition", "PodSecurity", "Priority",
    "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection",
    "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
    "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
    "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
)


# The plugins this server implements, by upstream name.
IMPLEMENTED: dict[str, type[Plugin]] = {p.name: p for p in (
    NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, PodSecurity, Priority,
    DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection, PersistentVolumeClaimResize,
    RuntimeClass,
    MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota)}


def plugins(plugin_names: list[str] | None, registries,
            settings: AdmissionSettings = AdmissionSettings()) -> list[Plugin]:
    wanted = set(DEFAULT_PLUGINS if plugin_names is None else [n.strip() for n in plugin_names if n.strip()])
    unknown = sorted(wanted - set(ORDER))
    if unknown:
        raise ValueError(f"enable-admission-plugins plugin {unknown[0]!r} not found")
    return [IMPLEMENTED[n](registries, settings) for n in ORDER if n in wanted and n in IMPLEMENTED]


def build_chain(plugin_names: list[str] | None, registries, settings: AdmissionSettings = AdmissionSettings(), *,
                controller_timings=None, webhook_timings=None):
    """`controller_timings`, `webhook_timings`: histograms (anything with
    `observe(labels, seconds)`) timing each plugin, and each webhook call, by
    (name, type, operation, rejected) as upstream's apiserver_admission_* do; None: untimed."""
    chain = plugins(plugin_names, registries, settings)
    for p in chain:
        if isinstance(p, (MutatingAdmissionWebhook, ValidatingAdmissionWebhook)):
            p.timings = webhook_timings
    mutators = [(p.name, p.admit) for p in chain if p.mutating]
    validators = [(p.name, p.validate) for p in chain if p.validating]

    def run(steps, kind: str):
        if controller_timings is None:
            async def untimed(attrs: Attributes) -> None:
                for _name, step in steps:
                    await step(attrs)
            return untimed

        async def timed(attrs: Attributes) -> None:
            for name, step in steps:
                await observe_step(controller_timings, (name, kind), attrs.operation, step(attrs))
        return timed

    return run(mutators, "admit"), run(validators, "validate")


__all__ = ["build_chain", "plugins", "AdmissionSettings", "DEFAULT_PLUGINS", "IMPLEMENTED", "ORDER"]
