"""Server-side defaults, applied to every object before validation and storage.

`apply_defaults(resource, obj)` fills in what upstream's SetDefaults_* functions
(and the few registry strategies that default) fill in, so that stored objects
look like a real cluster's. Allocated values (clusterIP, nodePorts) are the
allocators' business; admission-plugin defaults (service account,
tolerations) are the admission package's.
"""
from __future__ import annotations

from typing import Callable

from openapi.catalogue import Resource

from . import podspec
from .kinds import (endpoints, endpointslice, limitrange, namespace, node, pod, podtemplate,
                    replicationcontroller, secret, service, webhook_configuration)

_DEFAULTERS: dict[tuple[str, str], Callable[[dict], None]] = {
    ("", "Pod"): pod,
    ("", "PodTemplate"): podtemplate,
    ("", "ReplicationController"): replicationcontroller,
    ("", "Service"): service,
    ("", "Namespace"): namespace,
    ("", "Secret"): secret,
    ("", "Node"): node,
    ("", "Endpoints"): endpoints,
    ("", "LimitRange"): limitrange,
    ("discovery.k8s.io", "EndpointSlice"): endpointslice,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): lambda o: webhook_configuration(o, True),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): lambda o: webhook_configuration(o, False),
}


def apply_defaults(resource: Resource, obj: dict) -> None:
    """Mutate `obj` (a full object of `resource`'s kind) to carry upstream's defaults."""
    if not isinstance(obj, dict):
        return
    fn = _DEFAULTERS.get((resource.group, resource.kind))
    if fn is not None:
        fn(obj)


__all__ = ["apply_defaults", "podspec"]
