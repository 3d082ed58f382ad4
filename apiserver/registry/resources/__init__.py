"""Which Strategy each served resource uses (default: the base Strategy)."""
from __future__ import annotations

from openapi.catalogue import Resource

from apiserver.registry.strategy import Strategy
from apiserver.registry.resources.events import EventStrategy, EventsV1Strategy
from apiserver.registry.resources.namespaces import NamespaceStrategy
from apiserver.registry.resources.pods import PodStrategy
from apiserver.registry.resources.replicationcontrollers import ReplicationControllerStrategy
from apiserver.registry.resources.services import ServiceStrategy
from apiserver.registry.resources.simple import (ConfigMapStrategy, EndpointSliceStrategy, EndpointsStrategy,
                                                 NodeStrategy, PodTemplateStrategy, SecretStrategy,
                                                 ServiceAccountStrategy, WebhookConfigurationStrategy)

STRATEGIES: dict[tuple[str, str], type[Strategy]] = {
    ("", "namespaces"): NamespaceStrategy,
    ("", "pods"): PodStrategy,
    ("", "nodes"): NodeStrategy,
    ("", "services"): ServiceStrategy,
    ("", "configmaps"): ConfigMapStrategy,
    ("", "secrets"): SecretStrategy,
    ("", "events"): EventStrategy,
    ("", "endpoints"): EndpointsStrategy,
    ("", "serviceaccounts"): ServiceAccountStrategy,
    ("", "podtemplates"): PodTemplateStrategy,
    ("", "replicationcontrollers"): ReplicationControllerStrategy,
    ("discovery.k8s.io", "endpointslices"): EndpointSliceStrategy,
    ("events.k8s.io", "events"): EventsV1Strategy,
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): WebhookConfigurationStrategy,
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): WebhookConfigurationStrategy,
}


def strategy_for(resource: Resource) -> Strategy:
    return STRATEGIES.get((resource.group, resource.plural), Strategy)(resource)
