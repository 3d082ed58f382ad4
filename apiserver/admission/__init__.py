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
from .plugin import AdmissionSettings, Plugin
from .pod_security import PodSecurity
from .priority import Priority
from .resource_quota import ResourceQuota
from .runtime_class import RuntimeClass
from .service_account import ServiceAccount
from .storage_protection import DefaultStorageClass, StorageObjectInUseProtection
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

DEFAULT_PLUGINS = (
    "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "PodSecurity", "Priority",
    "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection",
    "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
    "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
    "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
)


# The plugins this server implements, by upstream name.
IMPLEMENTED: dict[str, type[Plugin]] = {p.name: p for p in (
    NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, Priority, DefaultTolerationSeconds,
    DefaultStorageClass, StorageObjectInUseProtection, RuntimeClass,
    MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota)}


def plugins(plugin_names: list[str] | None, registries,
            settings: AdmissionSettings = AdmissionSettings()) -> list[Plugin]:
    wanted = set(DEFAULT_PLUGINS if plugin_names is None else [n.strip() for n in plugin_names if n.strip()])
    unknown = sorted(wanted - set(ORDER))
    if unknown:
        raise ValueError(f"enable-admission-plugins plugin {unknown[0]!r} not found")
    return [IMPLEMENTED[n](registries, settings) for n in ORDER if n in wanted and n in IMPLEMENTED]


def build_chain(plugin_names: list[str] | None, registries, settings: AdmissionSettings = AdmissionSettings()):
    chain = plugins(plugin_names, registries, settings)
    mutators = [p for p in chain if p.mutating]
    validators = [p for p in chain if p.validating]

    async def mutate(attrs: Attributes) -> None:
        for p in mutators:
            await p.admit(attrs)

    async def validate(attrs: Attributes) -> None:
        for p in validators:
            await p.validate(attrs)

    return mutate, validate


__all__ = ["build_chain", "plugins", "AdmissionSettings", "DEFAULT_PLUGINS", "IMPLEMENTED", "ORDER"]
