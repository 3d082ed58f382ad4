"""The four ways a PATCH can change an object (apply-patch lives with managed fields).

- `json_patch(doc, ops)`: RFC 6902 operations (`application/json-patch+json`).
- `merge_patch(doc, patch)`: RFC 7386 (`application/merge-patch+json`).
- `strategic_merge_patch(doc, patch, schema)`: Kubernetes' own
  (`application/strategic-merge-patch+json`), steered by the upstream schema.

All take plain decoded JSON and return a new dict; the input is never changed.
Failures raise PatchError with `.code` the HTTP status upstream answers with:
400 (BadRequest) when the patch itself cannot be understood (not a list of
operations, not an object, a malformed directive), 422 (Invalid) when a
well-formed patch cannot be applied to this object (path missing, test failed,
merge key missing, list of lists), 413 for over 10000 JSON patch operations.
"""
from __future__ import annotations

from apiserver.machinery.patch.errors import PatchError
from apiserver.machinery.patch.json_patches import json_patch, merge_patch
from apiserver.machinery.patch.strategic import strategic_merge_patch

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]
