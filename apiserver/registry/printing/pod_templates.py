"""Columns of kinds that carry a pod template (pod templates, replication
controllers, and the workload kinds): the template's containers and images."""
from __future__ import annotations

from .columns import col

CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def containers_column(priority: int = 0) -> dict:
    return col("Containers", CONTAINERS_DOC, priority=priority)


def images_column(priority: int = 0) -> dict:
    return col("Images", IMAGES_DOC, priority=priority)


def containers_and_images(template: dict | None) -> tuple[str, str]:
    """The two cells: container names and images, comma-separated."""
    containers = ((template or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)
