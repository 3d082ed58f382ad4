"""The query and path parameters the server accepts, per kind of operation.

Why this matters beyond documentation: kubectl decides whether to validate on
the server by looking for `fieldValidation` among the parameters of the PATCH
operation for the object's kind; if it is missing it falls back to client-side
validation. Every parameter listed here is one the request handlers honour.
"""
from __future__ import annotations


def _param(name: str, where: str, type_: str, description: str, required: bool = False) -> dict:
    p = {"name": name, "in": where, "description": description, "schema": {"type": type_}}
    if required:
        p["required"] = True
    if where == "query":
        p["uniqueItems"] = True
    return p


PRETTY = _param("pretty", "query", "string", "If 'true', the output is indented for people to read.")
NAME = lambda kind: _param("name", "path", "string", f"name of the {kind}", required=True)  # noqa: E731
NAMESPACE = _param("namespace", "path", "string", "object name and auth scope, such as for teams and projects", required=True)

DRY_RUN = _param("dryRun", "query", "string",
                 "When present, modifications are not persisted. Valid values: All (every stage of the request runs, nothing is stored).")
FIELD_MANAGER = _param("fieldManager", "query", "string",
                       "Name of the actor making the change, recorded in metadata.managedFields. Required for apply patches.")
FIELD_VALIDATION = _param("fieldValidation", "query", "string",
                          "What the server does with unknown or duplicate fields in the body: Ignore (drop them), "
                          "Warn (drop them and answer with a Warning header per field) or Strict (fail the request).")
FORCE = _param("force", "query", "boolean",
               "Apply patches only: take ownership of fields other managers own instead of failing with a conflict.")

LIST = [
    _param("allowWatchBookmarks", "query", "boolean", "Ask for BOOKMARK events during a watch."),
    _param("continue", "query", "string", "The token from the previous chunk of a paged list."),
    _param("fieldSelector", "query", "string", "Only objects whose fields match this selector."),
    _param("labelSelector", "query", "string", "Only objects whose labels match this selector."),
    _param("limit", "query", "integer", "Largest number of items per response; the rest follows with `continue`."),
    _param("resourceVersion", "query", "string", "The resource version the list or watch starts from."),
    _param("resourceVersionMatch", "query", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    _param("sendInitialEvents", "query", "boolean", "Start a watch with synthetic ADDED events for the current state."),
    _param("timeoutSeconds", "query", "integer", "End the list or watch after this many seconds."),
    _param("watch", "query", "boolean", "Stream changes instead of listing."),
]

DELETE = [
    DRY_RUN,
    _param("gracePeriodSeconds", "query", "integer", "Seconds before the object is deleted; 0 means at once."),
    _param("ignoreStoreReadErrorWithClusterBreakingPotential", "query", "boolean",
           "Delete an object that cannot be read from storage (unsafe)."),
    _param("orphanDependents", "query", "boolean", "Deprecated: use propagationPolicy."),
    _param("propagationPolicy", "query", "string", "What happens to dependents: Orphan, Background or Foreground."),
]

CREATE = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION]
REPLACE = CREATE
PATCH = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE]

LOG = [
    _param("container", "query", "string", "The container whose log to stream; defaults to the only one."),
    _param("follow", "query", "boolean", "Keep streaming as the log grows."),
    _param("insecureSkipTLSVerifyBackend", "query", "boolean", "Do not verify the serving certificate of the node agent."),
    _param("limitBytes", "query", "integer", "Stop after this many bytes."),
    _param("previous", "query", "boolean", "The log of the previous, terminated, instance of the container."),
    _param("sinceSeconds", "query", "integer", "Only lines newer than this many seconds."),
    _param("sinceTime", "query", "string", "Only lines newer than this RFC 3339 time."),
    _param("stream", "query", "string", "Which stream: All, Stdout or Stderr."),
    _param("tailLines", "query", "integer", "Only the last this many lines."),
    _param("timestamps", "query", "boolean", "Prefix each line with its RFC 3339 time."),
]

_STREAMS = [
    _param("container", "query", "string", "The container to connect to; defaults to the only one."),
    _param("stderr", "query", "boolean", "Stream the container's standard error."),
    _param("stdin", "query", "boolean", "Stream to the container's standard input."),
    _param("stdout", "query", "boolean", "Stream the container's standard output."),
    _param("tty", "query", "boolean", "Allocate a terminal."),
]
CONNECT = {
    "exec": [_param("command", "query", "string", "The command to run; repeat for each argument.")] + _STREAMS,
    "attach": _STREAMS,
    "portforward": [_param("ports", "query", "integer", "The ports to forward to.")],
    "proxy": [_param("path", "query", "string", "The path to proxy to.")],
}
