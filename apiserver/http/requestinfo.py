"""What a request is about, read from its method, path and query (upstream's
RequestInfo). Pure: the authorizer, the audit of verbs and the dispatcher all
read the same answer."""
from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.machinery import queryparams
from apiserver.machinery.fields import parse_field_selector
from apiserver.machinery.names import is_valid_path_segment_name

# /api/v1/namespaces/<name>/<these> act on the namespace itself
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(slots=True)
class RequestInfo:
    path: str
    verb: str                      # get list watch create update patch delete deletecollection (or http verb)
    is_resource_request: bool = False
    api_prefix: str = ""           # "api" or "apis"
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)   # what follows the subresource (proxy paths)

    @property
    def api_group(self) -> str:
        return self.group


_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get", "HEAD": "get",
                 "DELETE": "delete"}


def parse_request_info(method: str, path: str, query) -> RequestInfo:
    """`query` maps parameter names to their first value."""
    info = RequestInfo(path=path, verb=method.lower())
    parts = [p for p in path.strip("/").split("/")]
    if not parts or parts[0] not in ("api", "apis"):
        return info
    info.api_prefix = parts[0]
    rest = parts[1:]
    if info.api_prefix == "api":
        if not rest or not rest[0]:
            return info
        info.version, rest = rest[0], rest[1:]
    else:
        if len(rest) < 2 or not rest[0] or not rest[1]:
            if rest and rest[0]:
                info.group = rest[0]
            return info
        info.group, info.version, rest = rest[0], rest[1], rest[2:]
    if not rest or rest == [""]:
        return info
    info.is_resource_request = True
    verb = _METHOD_VERBS.get(method.upper(), method.lower())
    if rest[0] == "watch":       # legacy /api/v1/watch/... form
        verb = "watch"
        rest = rest[1:]
    if rest and rest[0] == "namespaces":
        if len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            info.namespace = rest[1]
            rest = rest[2:]
        elif len(rest) >= 2:
            info.namespace = rest[1]   # the namespace object itself: /namespaces/<name>[/status]
    if not rest or not rest[0]:
        info.is_resource_request = False
        return info
    info.resource = rest[0]
    if len(rest) >= 2:
        info.name = rest[1]
    if len(rest) >= 3:
        info.subresource = rest[2]
        info.parts = rest[3:]
    if verb == "get" and not info.name:
        verb = "watch" if queryparams.flag(query, "watch") else "list"
        info.name = _name_selected(query)
    elif verb == "delete" and not info.name:
        verb = "deletecollection"
    info.verb = verb
    return info


def _name_selected(query) -> str:
    """A list or watch of one object by `fieldSelector=metadata.name=<n>` names it, as
    upstream's RequestInfo does, so RBAC rules with resourceNames can allow it (client-go
    informers on a single object list and watch that way)."""
    text = queryparams.first(query, "fieldSelector")
    if not text:
        return ""
    try:
        name = parse_field_selector(text).exact_value("metadata.name")
    except ValueError:   # a malformed selector is the list handler's 400 to give
        return ""
    return name if name and not is_valid_path_segment_name(name) else ""
