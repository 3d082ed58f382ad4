"""Everything a verb handler needs about one request."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from openapi.catalogue import Resource

from apiserver.http.requestinfo import RequestInfo
from apiserver.machinery import queryparams
from apiserver.machinery.managedfields.writes import USER_AGENT
from apiserver.machinery.user import UserInfo
from apiserver.registry.context import WriteContext
from apiserver.registry.store import GenericStore


@dataclass(slots=True)
class Server:
    """What the verb handlers read of what the app was built with (create_app's arguments)."""
    registries: object
    admission_mutate: object
    admission_validate: object
    bookmark_interval: float = 5.0
    watch_timeout: int = 1800
    metrics: object = None   # http.metrics.ApiMetrics, or None when not counted


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
        return queryparams.pretty(self.query, self.request.headers.get("user-agent"))

    def write_context(self, dry_run: bool | None = None) -> WriteContext:
        """`dry_run` given: already read from the options body (DeleteOptions), so the
        query's dryRun is not looked at, as upstream ignores the query then."""
        kind = _OPTIONS_KIND.get(self.info.verb, "CreateOptions")
        options = write_options(self.query, kind)
        agent = self.request.headers.get("user-agent")
        if agent:  # names the field manager when the client gives none (upstream does the same)
            options[USER_AGENT] = agent
        if dry_run is None:
            dry_run = queryparams.dry_run(self.query, kind)
        return WriteContext(user=self.user, dry_run=dry_run,
                            mutate=self.server.admission_mutate, validate=self.server.admission_validate,
                            options=options)


# The options type upstream decodes a verb's query into (it names the type in 422s).
_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                 "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


def write_options(query, kind: str = "CreateOptions") -> dict:
    """Create/Update/PatchOptions as sent (fieldManager, fieldValidation, force): first values."""
    opts = {}
    for k in ("fieldManager", "fieldValidation", "force"):
        v = queryparams.first(query, k)
        if v is not None:
            opts[k] = v
    manager = opts.get("fieldManager") or ""
    if len(manager) > 128:
        raise queryparams.invalid_options(kind, "fieldManager", "Too long: may not be more than 128 bytes",
                                          "FieldValueTooLong")
    return opts
