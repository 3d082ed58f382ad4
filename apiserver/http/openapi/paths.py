"""OpenAPI v3 paths and operations, generated from the catalogue.

For every resource and subresource the operations kube-apiserver publishes:
operation ids in upstream style (`readCoreV1NamespacedPod`,
`listCoreV1PodForAllNamespaces`, `connectCoreV1PostNamespacedPodExec`), the
parameters each verb accepts, request and response schemas, and the
`x-kubernetes-action` / `x-kubernetes-group-version-kind` extensions that
kubectl's query-parameter verifier keys on.
"""
from __future__ import annotations

from openapi.catalogue import GroupVersion, Resource, Subresource

from apiserver.machinery import schemas

from . import parameters as P
from .components import V3_REF

_OBJECT_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_WATCH_TYPES = ("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
               "application/merge-patch+json", "application/strategic-merge-patch+json")
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."


def group_prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def _camel(group: str, version: str) -> str:
    """`""` -> CoreV1, `coordination.k8s.io` -> CoordinationV1, `rbac.authorization.k8s.io` -> RbacAuthorizationV1."""
    if not group:
        base = "Core"
    else:
        trimmed = group.removesuffix(".k8s.io")
        base = "".join(part[:1].upper() + part[1:] for part in trimmed.replace("-", ".").split("."))
    return base + version[:1].upper() + version[1:]


def tag(group: str, version: str) -> str:
    c = _camel(group, version)
    ver = version[:1].upper() + version[1:]
    base = c[: -len(ver)]
    return base[:1].lower() + base[1:] + "_" + version


def _ref(name: str) -> dict:
    return {"$ref": V3_REF + name}


def _gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "kind": kind, "version": version}


def _content(schema: dict, types=_OBJECT_TYPES) -> dict:
    return {t: {"schema": schema} for t in types}


def _responses(schema: dict, codes=("200",), types=_OBJECT_TYPES) -> dict:
    out = {c: {"description": {"200": "OK", "201": "Created", "202": "Accepted"}[c], "content": _content(schema, types)}
           for c in codes}
    out["401"] = {"description": "Unauthorized"}
    return out


def _op(op_id: str, action: str, gvk: dict | None, description: str, tag_: str, params: list,
        responses: dict, body: dict | None = None) -> dict:
    op = {"tags": [tag_], "description": description, "operationId": op_id}
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    op["responses"] = responses
    op["x-kubernetes-action"] = action
    if gvk is not None:
        op["x-kubernetes-group-version-kind"] = gvk
    return op


def _body(schema: dict, types=("*/*",)) -> dict:
    return {"content": _content(schema, types), "required": True}


def _sub_schema(r: Resource, sub: Subresource) -> tuple[str, str, dict]:
    """(group, version, schema) of the object a subresource takes."""
    group = sub.group if sub.group is not None else r.group
    version = sub.version or r.version
    name = schemas.name_for_kind(group, version, sub.kind)
    return group, version, (_ref(name) if name else {"type": "string"})


def _resource_paths(r: Resource) -> dict[str, dict]:
    prefix = group_prefix(r.group, r.version)
    gv = _camel(r.group, r.version)
    t = tag(r.group, r.version)
    scope = "Namespaced" if r.namespaced else ""
    kind = r.kind
    obj = _ref(r.schema)
    gvk = _gvk(r.group, r.version, kind)
    list_name = schemas.name_for_kind(r.group, r.version, r.list_kind)
    coll = f"{prefix}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{prefix}/{r.plural}"
    item = coll + "/{name}"
    scope_params = [P.NAMESPACE] if r.namespaced else []
    paths: dict[str, dict] = {}

    c: dict = {}
    if "list" in r.verbs and list_name:
        c["get"] = _op(f"list{gv}{scope}{kind}", "list", gvk, f"list or watch objects of kind {kind}", t,
                       P.LIST, _responses(_ref(list_name), types=_OBJECT_TYPES + _WATCH_TYPES))
    if "create" in r.verbs:
        c["post"] = _op(f"create{gv}{scope}{kind}", "post", gvk, f"create a {kind}", t, P.CREATE,
                        _responses(obj, ("200", "201", "202")), _body(obj))
    if "deletecollection" in r.verbs:
        c["delete"] = _op(f"delete{gv}Collection{scope}{kind}", "deletecollection", gvk,
                          f"delete collection of {kind}", t, P.DELETE + P.LIST,
                          _responses(_ref(_META + "Status")), _body(_ref(_META + "DeleteOptions")))
    if c:
        c["parameters"] = scope_params + [P.PRETTY]
        paths[coll] = c

    i: dict = {}
    if "get" in r.verbs:
        i["get"] = _op(f"read{gv}{scope}{kind}", "get", gvk, f"read the specified {kind}", t, [], _responses(obj))
    if "update" in r.verbs:
        i["put"] = _op(f"replace{gv}{scope}{kind}", "put", gvk, f"replace the specified {kind}", t, P.REPLACE,
                       _responses(obj, ("200", "201")), _body(obj))
    if "patch" in r.verbs:
        i["patch"] = _op(f"patch{gv}{scope}{kind}", "patch", gvk, f"partially update the specified {kind}", t,
                         P.PATCH, _responses(obj, ("200", "201")), _body(_ref(_META + "Patch"), PATCH_TYPES))
    if "delete" in r.verbs:
        i["delete"] = _op(f"delete{gv}{scope}{kind}", "delete", gvk, f"delete a {kind}", t, P.DELETE,
                          _responses(obj, ("200", "202")), _body(_ref(_META + "DeleteOptions")))
    if i:
        i["parameters"] = [P.NAME(kind)] + scope_params + [P.PRETTY]
        paths[item] = i

    if r.namespaced and "list" in r.verbs and list_name:
        paths[f"{prefix}/{r.plural}"] = {
            "get": _op(f"list{gv}{kind}ForAllNamespaces", "list", gvk, f"list or watch objects of kind {kind}", t,
                       P.LIST, _responses(_ref(list_name), types=_OBJECT_TYPES + _WATCH_TYPES)),
            "parameters": [P.PRETTY],
        }

    for sub in r.subresources:
        paths[f"{item}/{sub.name}"] = _subresource_path(r, sub, gv, scope, t)
    if "watch" in r.verbs:
        paths.update(_watch_paths(r, prefix, gv, scope, t, gvk, scope_params))
    return paths


def _watch_paths(r: Resource, prefix: str, gv: str, scope: str, t: str, gvk: dict, scope_params: list) -> dict:
    """The legacy /watch/ forms (deprecated upstream, still served and published)."""
    event = _responses(_ref(_META + "WatchEvent"), types=_OBJECT_TYPES + _WATCH_TYPES)
    kind = r.kind
    coll = (f"{prefix}/watch/namespaces/{{namespace}}/{r.plural}" if r.namespaced
            else f"{prefix}/watch/{r.plural}")
    note = "deprecated: use the 'watch' parameter with a list operation instead"
    out = {
        coll: {"get": _op(f"watch{gv}{scope}{kind}List", "watchlist", gvk,
                          f"watch individual changes to a list of {kind}. {note}.", t, [], event),
               "parameters": scope_params + P.LIST + [P.PRETTY]},
        coll + "/{name}": {"get": _op(f"watch{gv}{scope}{kind}", "watch", gvk,
                                      f"watch changes to an object of kind {kind}. {note}, filtered to a single "
                                      "item with the 'fieldSelector' parameter.", t, [], event),
                           "parameters": [P.NAME(kind)] + scope_params + P.LIST + [P.PRETTY]},
    }
    if r.namespaced:
        out[f"{prefix}/watch/{r.plural}"] = {
            "get": _op(f"watch{gv}{kind}ListForAllNamespaces", "watchlist", gvk,
                       f"watch individual changes to a list of {kind}. {note}.", t, [], event),
            "parameters": P.LIST + [P.PRETTY]}
    return out


def _subresource_path(r: Resource, sub: Subresource, gv: str, scope: str, t: str) -> dict:
    group, version, schema = _sub_schema(r, sub)
    gvk = _gvk(group, version, sub.kind)
    suffix = sub.name[:1].upper() + sub.name[1:]
    what = f"{sub.name} of the specified {r.kind}"
    path: dict = {"parameters": [P.NAME(sub.kind)] + ([P.NAMESPACE] if r.namespaced else []) + [P.PRETTY]}
    if sub.name in P.CONNECT:
        methods = {"get": "Get", "create": "Post", "update": "Put", "patch": "Patch", "delete": "Delete"}
        http = {"get": "get", "create": "post", "update": "put", "patch": "patch", "delete": "delete"}
        for verb in sub.verbs:
            path[http[verb]] = _op(f"connect{gv}{methods[verb]}{scope}{r.kind}{suffix}", "connect", gvk,
                                   f"connect {methods[verb]} requests to {sub.name} of {r.kind}", t,
                                   P.CONNECT[sub.name], _responses({"type": "string"}, types=("*/*",)))
        return path
    if sub.name == "log":
        path["get"] = _op(f"read{gv}{scope}{r.kind}Log", "get", _gvk(r.group, r.version, r.kind), f"read {what}", t,
                          P.LOG, _responses({"type": "string"}, types=("text/plain", "application/json",
                                                                         "application/yaml",
                                                                         "application/vnd.kubernetes.protobuf")))
        return path
    if "get" in sub.verbs:
        path["get"] = _op(f"read{gv}{scope}{r.kind}{suffix}", "get", gvk, f"read {what}", t, [], _responses(schema))
    if "update" in sub.verbs:
        path["put"] = _op(f"replace{gv}{scope}{r.kind}{suffix}", "put", gvk, f"replace {what}", t, P.REPLACE,
                          _responses(schema, ("200", "201")), _body(schema))
    if "patch" in sub.verbs:
        path["patch"] = _op(f"patch{gv}{scope}{r.kind}{suffix}", "patch", gvk, f"partially update {what}", t,
                            P.PATCH, _responses(schema, ("200", "201")), _body(_ref(_META + "Patch"), PATCH_TYPES))
    if "create" in sub.verbs:
        path["post"] = _op(f"create{gv}{scope}{r.kind}{suffix}", "post", gvk, f"create {what}", t, P.CREATE,
                           _responses(schema, ("200", "201", "202")), _body(schema))
    return path


def group_version_paths(gv: GroupVersion) -> dict[str, dict]:
    prefix = group_prefix(gv.group, gv.version)
    paths: dict[str, dict] = {
        prefix + "/": {"get": _op(f"get{_camel(gv.group, gv.version)}APIResources", "", None,
                                  "get available resources", tag(gv.group, gv.version), [],
                                  _responses(_ref(_META + "APIResourceList"),
                                             types=("application/json", "application/yaml",
                                                    "application/vnd.kubernetes.protobuf")))},
    }
    for r in gv.resources:
        paths.update(_resource_paths(r))
    # the x-kubernetes-action of the discovery operation is absent upstream
    paths[prefix + "/"]["get"].pop("x-kubernetes-action")
    return dict(sorted(paths.items()))


def root_schemas(gv: GroupVersion) -> list[str]:
    """The definitions a group-version's operations reference directly."""
    names: list[str] = []
    for r in gv.resources:
        names.append(r.schema)
        lst = schemas.name_for_kind(r.group, r.version, r.list_kind)
        if lst:
            names.append(lst)
        for sub in r.subresources:
            group = sub.group if sub.group is not None else r.group
            n = schemas.name_for_kind(group, sub.version or r.version, sub.kind)
            if n:
                names.append(n)
    return names
