"""PatchError and the fixed messages upstream's strategic merge code uses."""
from __future__ import annotations

from apiserver.machinery.errors import StatusError


_REASONS = {400: "BadRequest", 413: "RequestEntityTooLarge", 422: "Invalid"}


class PatchError(StatusError, ValueError):
    """A patch that could not be applied; `code` is the HTTP status to answer with (400, 413 or 422).

    It is a StatusError, so a handler that lets it through answers with the
    right Status; it is also a ValueError for callers that treat it as bad input.
    """

    def __init__(self, message: str, code: int = 422):
        StatusError.__init__(self, code, _REASONS.get(code, "Invalid"), message)


# upstream mergepatch package wording
BAD_JSON_DOC = "invalid JSON document"
NO_LIST_OF_LISTS = "lists of lists are not supported"
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


def go_value(v) -> str:
    """A value printed like Go's %v prints decoded JSON (for messages that embed a map)."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_value(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
