"""RFC 6902 JSON patch (through the `jsonpatch` library) and RFC 7386 merge patch."""
from __future__ import annotations

import copy

import jsonpatch
import jsonpointer

from apiserver.machinery.patch.errors import PatchError

MAX_JSON_PATCH_OPERATIONS = 10000  # kube-apiserver's limit


def json_patch(doc: dict, ops) -> dict:
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        # What Go's decoder says when the body is not an array of operation objects.
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
                         f"got {len(ops)}", 413)
    try:
        result = jsonpatch.apply_patch(doc, ops, in_place=False)
    except jsonpatch.JsonPatchTestFailed as e:
        raise PatchError(f"testing value failed: {e}", 422) from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as e:
        raise PatchError(str(e), 422) from None
    except (TypeError, KeyError, IndexError, ValueError, AttributeError) as e:
        # The library trips over odd shapes (a path into a string, a non-string path...).
        raise PatchError(f"unable to apply JSON patch: {e}", 422) from None
    if not isinstance(result, dict):
        raise PatchError("the patched document is not a JSON object", 422)
    return result


def _merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def merge_patch(doc: dict, patch) -> dict:
    """RFC 7386: objects merge key by key, null deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        raise PatchError("Invalid JSON Patch", 400)
    return _merge(copy.deepcopy(doc), patch)
