"""Query parameters read as kube-apiserver's parameter codec reads them. Pure.

Upstream decodes a request's url.Values into ListOptions, CreateOptions,
DeleteOptions... with the string conversions of k8s.io/apimachinery
(runtime.Convert_Slice_string_To_*):

- a parameter given several times counts by its FIRST value;
- booleans (`watch`, `allowWatchBookmarks`, `sendInitialEvents`, `force`,
  `orphanDependents`, the pod log and exec flags...): absent is false; a first
  value of `0` or `false` in any letter case is false; ANY other value is true,
  the empty string and `f` included. No spelling is an error;
- integers (`limit`, `timeoutSeconds`, `gracePeriodSeconds`, `tailLines`...):
  strconv.ParseInt(value, 10, 64); a malformed value fails the whole decode,
  which the handler answers with 400 BadRequest carrying Go's error text;
- parameters no options type names are ignored.

`pretty` is the one exception: it is read apart with strconv.ParseBool, a
spelling ParseBool refuses meaning "not pretty".

`query` is anything with `getlist(name)` (Starlette's QueryParams) or a plain
mapping of name -> value (or list of values), as unit tests pass.
"""
from __future__ import annotations

import re

from apiserver.machinery.errors import Cause, StatusError, bad_request

# strconv.ParseBool's spellings (what the issue and Go's docs call a boolean).
PARSEBOOL_TRUE = ("1", "t", "T", "TRUE", "true", "True")
PARSEBOOL_FALSE = ("0", "f", "F", "FALSE", "false", "False")

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_DECIMAL = re.compile(r"[+-]?[0-9]+")   # ParseInt base 10: a sign, then ASCII digits only


def values(query, name: str) -> list[str]:
    getlist = getattr(query, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    v = query.get(name)
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def first(query, name: str, default: str | None = None) -> str | None:
    """The value upstream reads for a string parameter: the first one given."""
    vs = values(query, name)
    return vs[0] if vs else default


def string(query, name: str) -> str:
    return first(query, name, "") or ""


def _slice_to_bool(text: str) -> bool:
    # Convert_Slice_string_To_bool: only "0" and "false" (any case) are false.
    return not (text == "0" or text.lower() == "false")


def flag(query, name: str) -> bool:
    """A plain bool option (ListOptions.watch, allowWatchBookmarks...): absent is false."""
    vs = values(query, name)
    return _slice_to_bool(vs[0]) if vs else False


def optional_flag(query, name: str) -> bool | None:
    """A *bool option (sendInitialEvents, force, orphanDependents): None when absent."""
    vs = values(query, name)
    return _slice_to_bool(vs[0]) if vs else None


def go_parse_bool(text: str) -> bool | None:
    """strconv.ParseBool: True/False for its twelve spellings, None for anything else."""
    if text in PARSEBOOL_TRUE:
        return True
    if text in PARSEBOOL_FALSE:
        return False
    return None


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_int64(text: str) -> int:
    """strconv.ParseInt(text, 10, 64); ValueError carries Go's message."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
    n = int(text)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(text)}: value out of range")
    return n


def int64(query, name: str) -> int | None:
    """An int64 / *int64 option: None when absent; 400 BadRequest when malformed."""
    vs = values(query, name)
    if not vs:
        return None
    try:
        return parse_int64(vs[0])
    except ValueError as e:
        raise bad_request(str(e)) from None


def pretty(query, user_agent: str | None) -> bool:
    """Indent the JSON answer? `pretty` by ParseBool; without it, what a human's
    tool sends (upstream's isPrettyPrint looks at the User-Agent the same way)."""
    given = first(query, "pretty")
    if given:
        return go_parse_bool(given) is True
    agent = user_agent or ""
    return agent.startswith(("curl", "Wget", "Mozilla/5.0"))


def invalid_options(kind: str, field: str, detail: str, reason: str) -> StatusError:
    """422 for options that decoded but do not validate (ValidateCreateOptions & co.):
    `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ...`."""
    return StatusError(422, "Invalid", f'{kind}.meta.k8s.io "" is invalid: {field}: {detail}',
                       group="meta.k8s.io", kind=kind, causes=[Cause(reason, detail, field)])


def dry_run(query, kind: str) -> bool:
    """`dryRun` (a list): every value must be `All` (ValidateDryRun), else 422 on `kind`."""
    vs = values(query, "dryRun")
    bad = [v for v in vs if v != "All"]
    if bad:
        shown = "[]string{" + ", ".join(_go_quote(v) for v in vs) + "}"
        raise invalid_options(kind, "dryRun", f'Unsupported value: {shown}: supported values: "All"',
                              "FieldValueNotSupported")
    return bool(vs)
