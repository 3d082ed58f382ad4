"""Field ownership (metadata.managedFields) and server-side apply, per upstream schemas."""
from .apply import LAST_APPLIED, apply, conflict_error
from .entries import APPLY, UPDATE, update_managed_fields
from .fieldpaths import from_fields_v1, path_string, to_fields_v1

__all__ = ["APPLY", "UPDATE", "LAST_APPLIED", "apply", "conflict_error", "update_managed_fields",
           "from_fields_v1", "to_fields_v1", "path_string"]
