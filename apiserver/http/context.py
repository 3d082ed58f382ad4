"""Everything a verb handler needs about one request."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from openapi.catalogue import Resource

from apiserver.http.requestinfo import RequestInfo
from apiserver.machinery import errors
from apiserver.machinery.managedfields.writes import USER_AGENT
from apiserver.machinery.user import UserInfo
from apiserver.registry.context import WriteContext
from apiserver.registry.store import GenericStore


@dataclass(slots=True)
class Server:
    """What the app was built with (create_app's arguments)."""
    registries: object
    authenticator: object
    authorizer: object
    admission_mutate: object
    admission_validate: object
    service_cluster_ip_range: str
    service_node_port_range: str
    bookmark_interval: float = 5.0
    watch_timeout: int = 1800


@dataclass(slots=True)
class RequestContext:
    request: Request
    query: object               # starlette QueryParams (.get first value, .getlist)
    info: RequestInfo
    user: UserInfo
    resource: Resource
    store: GenericStore | None  # None for virtual (create-only) resources
    server: Server

    @property
    def namespace(self) -> str:
        return self.info.namespace if self.resource.namespaced else ""

    @property
    def pretty(self) -> bool:
        return self.query.get("pretty") in ("true", "1")

    def write_context(self) -> WriteContext:
        options = write_options(self.query)
        agent = self.request.headers.get("user-agent")
        if agent:  # names the field manager when the client gives none (upstream does the same)
            options[USER_AGENT] = agent
        return WriteContext(user=self.user, dry_run=dry_run(self.query),
                            mutate=self.server.admission_mutate, validate=self.server.admission_validate,
                            options=options)


def dry_run(query) -> bool:
    values = query.getlist("dryRun")
    for v in values:
        if v != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
    return bool(values)


def write_options(query) -> dict:
    """Create/Update/PatchOptions as sent (fieldManager, fieldValidation, force)."""
    opts = {}
    for k in ("fieldManager", "fieldValidation", "force"):
        v = query.get(k)
        if v is not None:
            opts[k] = v
    if opts.get("fieldManager") and len(opts["fieldManager"]) > 128:
        raise errors.StatusError(422, "Invalid", "fieldManager: Too long: may not be longer than 128 characters")
    return opts
