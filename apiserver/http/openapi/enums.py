"""`enum` on the fields upstream 1.33 publishes one for (enum_catalogue), in the v3
documents (upstream's v2 swagger carries none), so `kubectl explain pod.spec.containers.imagePullPolicy`
shows ENUM: Always, IfNotPresent, Never. Upstream sorts the values.
"""
from __future__ import annotations

from apiserver.http.openapi.enum_catalogue import FIELDS, TYPES

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {key: TYPES[t] for key, t in FIELDS.items()}


def add_enums(components: dict[str, dict]) -> None:
    """Set `enum` on the converted component schemas (in place)."""
    for (definition, prop), values in ENUMS.items():
        schema = ((components.get(definition) or {}).get("properties") or {}).get(prop)
        if schema is not None:
            schema["enum"] = sorted(values)
