"""PodLogOptions and PodExecOptions/PodAttachOptions as kube-apiserver reads them
from the query, re-spelled canonically for the node agent. Pure.

Upstream decodes these options with the same string conversions as every other
options type (machinery.queryparams: first value; `false`/`0` false, any other
spelling true; int64 by ParseInt), validates them (ValidatePodLogOptions), then
builds the kubelet's URL from the decoded values. So the node agent only ever sees
`true` for a set flag, whatever spelling the client used.
"""
from __future__ import annotations

from apiserver.machinery import errors, queryparams as qp

LOG_FLAGS = ("follow", "previous", "timestamps", "insecureSkipTLSVerifyBackend")
LOG_INTS = ("tailLines", "sinceSeconds", "limitBytes")
STREAM_FLAGS = ("stdin", "stdout", "stderr", "tty")


def _log_invalid(pod: str, field: str, detail: str, reason: str) -> errors.StatusError:
    cause = errors.Cause(reason, detail, field)
    shown = f"{field}: {detail}" if field else detail
    return errors.StatusError(422, "Invalid", f'PodLogOptions "{pod}" is invalid: {shown}',
                              name=pod, kind="PodLogOptions", causes=[cause])


def log_params(query, pod: str) -> dict[str, str]:
    """The kubelet's containerLogs parameters; 400 on a malformed integer, 422 on a
    value ValidatePodLogOptions refuses."""
    out: dict[str, str] = {}
    for name in LOG_FLAGS:
        if qp.flag(query, name):
            out[name] = "true"
    ints = {name: qp.int64(query, name) for name in LOG_INTS}
    since_time = qp.first(query, "sinceTime")
    if ints["tailLines"] is not None and ints["tailLines"] < 0:
        raise _log_invalid(pod, "tailLines", f"Invalid value: {ints['tailLines']}: must be greater than or "
                           "equal to 0", "FieldValueInvalid")
    if ints["limitBytes"] is not None and ints["limitBytes"] < 1:
        raise _log_invalid(pod, "limitBytes", f"Invalid value: {ints['limitBytes']}: must be greater than 0",
                           "FieldValueInvalid")
    if ints["sinceSeconds"] is not None and since_time:
        raise _log_invalid(pod, "", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
                           "FieldValueForbidden")
    if ints["sinceSeconds"] is not None and ints["sinceSeconds"] < 1:
        raise _log_invalid(pod, "sinceSeconds", f"Invalid value: {ints['sinceSeconds']}: must be greater than 0",
                           "FieldValueInvalid")
    out.update({name: str(v) for name, v in ints.items() if v is not None})
    if since_time:
        out["sinceTime"] = since_time
    return out


def stream_params(query) -> list[tuple[str, str]]:
    """exec/attach/portforward parameters for the node agent: every `command` in order,
    `ports` as given, and each stream flag that is set spelled `true`."""
    out = [("command", c) for c in qp.values(query, "command")]
    out += [("ports", p) for p in qp.values(query, "ports")]
    out += [(name, "true") for name in STREAM_FLAGS if qp.flag(query, name)]
    return out
