"""PodTemplates: the body is `template` (a PodTemplateSpec), not a spec."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.defaulting import podspec
from apiserver.registry.printing.columns import col, name_column, name_of
from apiserver.registry.printing.humanize import format_labels
from apiserver.registry.printing.pod_templates import containers_and_images, containers_column, images_column
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation.podspec import validate_pod_template


class PodTemplateStrategy(Strategy):
    serves = (("", "podtemplates"),)

    def defaults(self, obj: dict) -> None:
        podspec.pod_template(obj.get("template"))

    def validate(self, obj: dict) -> list[Cause]:
        return validate_pod_template(obj.get("template"), "template", None)

    def spec_changed(self, new: dict, old: dict) -> bool:
        return new.get("template") != old.get("template")

    def columns(self) -> list[dict]:
        return [name_column(), containers_column(), images_column(),
                col("Pod Labels", "The labels for the pod template.")]

    def cells(self, obj: dict, now: datetime) -> list:
        template = obj.get("template") or {}
        names, images = containers_and_images(template)
        return [name_of(obj), names, images, format_labels((template.get("metadata") or {}).get("labels"))]
