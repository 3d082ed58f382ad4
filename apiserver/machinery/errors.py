"""API errors as kube-apiserver reports them: metav1.Status objects.

Every layer raises StatusError (or a helper below); the HTTP layer turns it into
a response with the Status body, so clients (kubectl prints
`Error from server (<Reason>): <message>`) see what a real cluster says.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Cause:
    """One problem with a request: `field` is the JSON path (spec.containers[0].name)."""

    reason: str  # FieldValueRequired, FieldValueInvalid, FieldValueDuplicate, FieldValueNotSupported, FieldValueForbidden, FieldValueTooLong, FieldValueTypeInvalid, FieldManagerConflict...
    message: str
    field: str = ""

    def to_dict(self) -> dict:
        d = {"reason": self.reason, "message": self.message}
        if self.field:
            d["field"] = self.field
        return d


class StatusError(Exception):
    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        causes: list[Cause] | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
        list_meta: dict | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes or []
        self.retry_after = retry_after
        self.headers = headers or {}
        self.list_meta = list_meta or {}   # e.g. the inconsistent-continue token of a 410

    def status(self) -> dict:
        s = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.list_meta),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            s["details"] = details
        if not self.reason:
            del s["reason"]
        return s


def _resource_name(group: str, resource: str) -> str:
    """`pods` for the core group, `leases.coordination.k8s.io` otherwise (upstream's qualified resource)."""
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{_resource_name(group, resource)} "{name}" not found',
                       name=name, group=group, kind=resource)


def already_exists(group: str, resource: str, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{_resource_name(group, resource)} "{name}" already exists',
                       name=name, group=group, kind=resource)


def conflict(group: str, resource: str, name: str, detail: str) -> StatusError:
    return StatusError(409, "Conflict",
                       f'Operation cannot be fulfilled on {_resource_name(group, resource)} "{name}": {detail}',
                       name=name, group=group, kind=resource)


OBJECT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def stale_update(group: str, resource: str, name: str) -> StatusError:
    return conflict(group, resource, name, OBJECT_MODIFIED)


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> StatusError:
    """422 with one cause per problem; the message joins them as upstream does."""
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    if len(parts) == 1:
        summary = parts[0]
    else:
        summary = "[" + ", ".join(parts) + "]"
    qualified = f"{kind}.{group}" if group else kind
    return StatusError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}',
                       name=name, group=group, kind=kind, causes=causes)


def bad_request(message: str, causes: list[Cause] | None = None) -> StatusError:
    return StatusError(400, "BadRequest", message, causes=causes)


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter.")
INCONSISTENT_CONTINUE = ("The provided continue parameter is too old to display a consistent list result. "
                         "You can start a new list without the continue parameter, or use the continue token "
                         "in this response to retrieve the remainder of the results. Continuing with the "
                         "provided token results in an inconsistent list - objects that were created, modified, "
                         "or deleted between the time the first chunk was returned and now may show up in the list.")


def continue_expired(inconsistent_token: str | None) -> StatusError:
    """410 for a paged list whose snapshot was compacted away. With a token, the
    client may go on from the same key at the latest revision (an inconsistent list)."""
    if inconsistent_token is None:
        return gone(CONTINUE_EXPIRED)
    return StatusError(410, "Expired", INCONSISTENT_CONTINUE, list_meta={"continue": inconsistent_token})


def too_old_resource_version(requested: int | str, oldest: int | str | None = None) -> StatusError:
    if oldest is None:
        return gone("too old resource version")
    return gone(f"too old resource version: {requested} ({oldest})")


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format ({content_type or "no content type"}) - '
                       "accepted media types include: application/json, application/yaml")


def not_acceptable(message: str = "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf") -> StatusError:
    return StatusError(406, "NotAcceptable", message)


def unauthorized(message: str = "Unauthorized") -> StatusError:
    return StatusError(401, "Unauthorized", message)


def forbidden(message: str, *, name: str = "", group: str = "", kind: str = "") -> StatusError:
    return StatusError(403, "Forbidden", message, name=name, group=group, kind=kind)


def request_entity_too_large(message: str = "Request entity too large: limit is 3145728") -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", message)


def internal_error(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}")


def service_unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)


def timeout(message: str) -> StatusError:
    return StatusError(504, "Timeout", message)


def too_many_requests(message: str, retry_after: int = 1) -> StatusError:
    return StatusError(429, "TooManyRequests", message, retry_after=retry_after)
