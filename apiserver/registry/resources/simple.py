"""Strategies of kinds whose rules are a line or two each."""
from __future__ import annotations

from apiserver.registry.strategy import Strategy


class NoSpecStrategy(Strategy):
    """Kinds without a spec (data holders): no metadata.generation."""
    has_spec = False


class ConfigMapStrategy(NoSpecStrategy):
    pass


class SecretStrategy(NoSpecStrategy):
    selectable_fields = ("type",)


class ServiceAccountStrategy(NoSpecStrategy):
    pass


class EndpointsStrategy(NoSpecStrategy):
    allow_create_on_update = True


class EndpointSliceStrategy(NoSpecStrategy):
    pass


class NodeStrategy(Strategy):
    selectable_fields = ("spec.unschedulable",)

    def prepare_for_create(self, obj: dict) -> None:
        # the node agent registers its Node with a status already filled in
        return None

    def fields(self, obj: dict) -> dict[str, str]:
        f = super().fields(obj)
        if not f["spec.unschedulable"]:
            f["spec.unschedulable"] = "false"
        return f


class WebhookConfigurationStrategy(Strategy):
    def spec_changed(self, new: dict, old: dict) -> bool:
        return new.get("webhooks") != old.get("webhooks")


class PodTemplateStrategy(Strategy):
    def spec_changed(self, new: dict, old: dict) -> bool:
        return new.get("template") != old.get("template")
