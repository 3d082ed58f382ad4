"""Choosing the response form from the Accept header (pure).

Forms: plain JSON or YAML, a meta.k8s.io Table, or PartialObjectMetadata(List),
in v1 or v1beta1. Media ranges are tried in order of their q values; the first
one we can serve wins. Nothing acceptable (protobuf only, say) is a 406.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from apiserver.machinery import errors

JSON = "application/json"
YAML = "application/yaml"


@dataclass(frozen=True, slots=True)
class Output:
    media: str                  # JSON or YAML
    convert: str = ""           # "", "Table", "PartialObjectMetadata", "PartialObjectMetadataList"
    version: str = "v1"         # meta.k8s.io version of the conversion
    stream: bool = False        # ;stream=watch

    @property
    def api_version(self) -> str:
        return f"meta.k8s.io/{self.version}"


PLAIN_JSON = Output(JSON)


def _params(range_: str) -> tuple[str, dict[str, str], float]:
    pieces = [p.strip() for p in range_.split(";")]
    media = pieces[0].lower()
    params: dict[str, str] = {}
    q = 1.0
    for p in pieces[1:]:
        k, _, v = p.partition("=")
        k, v = k.strip().lower(), v.strip().strip('"')
        if k == "q":
            try:
                q = float(v)
            except ValueError:
                q = 0.0
        else:
            params[k] = v
    return media, params, q


@lru_cache(maxsize=256)
def negotiate(accept: str | None, *, allow_conversion: bool = True) -> Output:
    """The Output for an Accept header; raises 406 when nothing fits."""
    if not accept:
        return PLAIN_JSON
    ranges = []
    for i, r in enumerate(accept.split(",")):
        if not r.strip():
            continue
        media, params, q = _params(r)
        if q > 0:
            ranges.append((-q, i, media, params))
    ranges.sort()
    for _, _, media, params in ranges:
        if media in (JSON, "application/*", "*/*", "*"):
            base = JSON
        elif media in (YAML, "application/x-yaml", "text/yaml"):
            base = YAML
        else:
            continue
        stream = params.get("stream") == "watch"
        as_ = params.get("as")
        if not as_:
            return Output(base, stream=stream)
        if not allow_conversion:
            continue
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if as_ in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
            return Output(base, as_, params["v"], stream)
    raise errors.not_acceptable()
