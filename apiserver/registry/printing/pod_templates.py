"""Columns of kinds that carry a pod template (pod templates, replication
controllers, and the workload kinds): the template's containers and images."""
from __future__ import annotations

from .columns import age_column, col, name_column
from .humanize import doc

CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def containers_column(priority: int = 0) -> dict:
    return col("Containers", CONTAINERS_DOC, priority=priority)


def images_column(priority: int = 0) -> dict:
    return col("Images", IMAGES_DOC, priority=priority)


def replica_set_columns(spec_definition: str, status_definition: str) -> list[dict]:
    """The table of ReplicationControllers and ReplicaSets: desired, current and
    ready counts, then (wide) the template's containers and images and the selector."""
    return [name_column(), col("Desired", doc(spec_definition, "replicas"), "integer"),
            col("Current", doc(status_definition, "replicas"), "integer"),
            col("Ready", doc(status_definition, "readyReplicas"), "integer"), age_column(),
            containers_column(priority=1), images_column(priority=1),
            col("Selector", doc(spec_definition, "selector"), priority=1)]


def containers_and_images(template: dict | None) -> tuple[str, str]:
    """The two cells: container names and images, comma-separated."""
    containers = ((template or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)
