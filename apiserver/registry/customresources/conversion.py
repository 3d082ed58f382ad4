"""`spec.conversion.strategy: Webhook`: custom resources converted between versions
by the CRD's webhook, as apiextensions-apiserver does.

Objects already in the wanted version are not sent; the others go in one
apiextensions.k8s.io ConversionReview (the first of the CRD's
conversionReviewVersions we speak, v1 or v1beta1) over HTTPS. The answer is
checked as upstream checks it (uid, result, count, apiVersion and kind, same
name/namespace/uid), and of the metadata only labels and annotations may change:
the rest is put back from the original. Any failure is a 500 whose message is
upstream's ("conversion webhook for <gvk> failed: ...").

The pure parts (review, reading the answer, checking one object) are functions;
WebhookConverter does the I/O.
"""
from __future__ import annotations

import copy
import uuid
from typing import Awaitable, Callable

import orjson

from apiserver.machinery import errors, webhook_client
from apiserver.registry.validation import meta

GROUP = "apiextensions.k8s.io"
REVIEW_VERSIONS = ("v1", "v1beta1")
TIMEOUT_SECONDS = 30   # upstream's conversion webhooks are called with ?timeout=30s

ServiceAddress = Callable[[str, str], Awaitable[str | None]]


class ConversionError(Exception):
    """What upstream's converter returns as an error (the message is the whole text)."""


def gvk(api_version: str, kind: str) -> str:
    """A GroupVersionKind as Go prints it."""
    return f"{api_version}, Kind={kind}"


def review(review_versions, objects: list[dict], desired: str, uid: str) -> dict:
    """The ConversionReview request, in the first version of `review_versions` we speak."""
    for version in review_versions or ():
        if version in REVIEW_VERSIONS:
            return {"apiVersion": f"{GROUP}/{version}", "kind": "ConversionReview",
                    "request": {"uid": uid, "desiredAPIVersion": desired, "objects": objects}}
    raise ConversionError("no supported conversion review versions")


def converted_objects(body, uid: str, review_version: str) -> list:
    """The convertedObjects of a webhook's answer; raises ConversionError (without the
    'conversion webhook for' prefix) when the answer is malformed or not a success."""
    if not isinstance(body, dict):
        raise ConversionError("no response provided")
    if review_version == f"{GROUP}/v1":   # v1beta1 answers were never checked for kind and uid
        got = gvk(str(body.get("apiVersion", "")), str(body.get("kind", "")))
        want = gvk(review_version, "ConversionReview")
        if got != want:
            raise ConversionError(f"expected webhook response of {want}, got {got}")
    response = body.get("response")
    if not isinstance(response, dict):
        raise ConversionError("no response provided")
    if review_version == f"{GROUP}/v1" and response.get("uid", "") != uid:
        raise ConversionError(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    result = response.get("result") if isinstance(response.get("result"), dict) else {}
    if result.get("status") != "Success":
        if result.get("message"):
            raise ConversionError(str(result["message"]))
        raise ConversionError(f"response.result.status was '{result.get('status', '')}', not 'Success'")
    objects = response.get("convertedObjects")
    return objects if isinstance(objects, list) else []


def checked(original: dict, converted, desired: str) -> dict:
    """`converted` made safe to serve: same identity as `original`, its metadata
    restored but for labels and annotations (which must be valid). Raises
    ConversionError naming what is wrong, worded as upstream."""
    if not isinstance(converted, dict):
        raise ConversionError("invalid type, expected=Unstructured")
    if converted.get("apiVersion") != desired:
        raise ConversionError(f"invalid groupVersion (expected {desired}, received {converted.get('apiVersion', '')})")
    if converted.get("kind") != original.get("kind"):
        raise ConversionError(f"invalid kind (expected {original.get('kind')}, received {converted.get('kind', '')})")
    om = original.get("metadata") or {}
    cm = converted.get("metadata") if isinstance(converted.get("metadata"), dict) else {}
    for what, name in (("name", "name"), ("namespace", "namespace"), ("UID", "uid")):
        if om.get(name, "") != cm.get(name, ""):
            raise ConversionError(f"must have the same {what}: {om.get(name, '')} != {cm.get(name, '')}")
    return converted


def restore_metadata(original: dict, converted: dict) -> dict:
    """Upstream's restoreObjectMeta: the original metadata, with the converted labels
    and annotations (validated when the webhook changed them)."""
    response_meta = converted.get("metadata")
    if "metadata" not in converted:
        raise ConversionError("missing metadata in converted object")
    if not isinstance(response_meta, dict):
        raise ConversionError(f"invalid metadata of type {_go_type(response_meta)} in converted object")
    out = copy.deepcopy(original.get("metadata") or {})
    for name, path, validate in (("labels", "metadata.labels", meta.validate_labels),
                                 ("annotations", "metadata.annotation", meta.validate_annotations)):
        value = response_meta.get(name)
        if value is None:
            out.pop(name, None)
            continue
        if not isinstance(value, dict):
            raise ConversionError(f"invalid metadata.{name} of type {_go_type(value)} in converted object")
        for k, v in value.items():
            if not isinstance(v, str):
                raise ConversionError(f"metadata.{name}[{k}] must be a string, but is {_go_type(v)} in converted object")
        if value != (out.get(name) or {}):
            causes = validate(value, path)
            if causes:
                texts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
                raise ConversionError(texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]")
        out[name] = value
    converted["metadata"] = out
    return converted


def _go_type(value) -> str:
    return {dict: "map[string]interface {}", list: "[]interface {}", str: "string", bool: "bool",
            int: "int64", float: "float64"}.get(type(value), "<nil>")


class WebhookConverter:
    """Calls one CRD's conversion webhook. `service_address(namespace, name)` gives a
    Service's cluster IP (our proxy routes it), for clientConfig.service."""

    def __init__(self, crd: dict, service_address: ServiceAddress):
        spec = crd.get("spec") or {}
        webhook = (spec.get("conversion") or {}).get("webhook") or {}
        self.kind = (spec.get("names") or {}).get("kind", "")
        self.list_kind = (spec.get("names") or {}).get("listKind") or self.kind + "List"
        self.client_config = webhook.get("clientConfig") or {}
        self.review_versions = list(webhook.get("conversionReviewVersions") or ())
        self.service_address = service_address
        self._client = None   # opened on first use, kept (connections reused) until close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def convert(self, objs: list[dict], desired: str, as_list: bool = False) -> list[dict]:
        """`objs` in apiVersion `desired` (the ones already there untouched).
        Raises errors.StatusError 500 with upstream's message."""
        todo = [i for i, o in enumerate(objs) if o.get("apiVersion") != desired]
        if not todo:
            return objs
        source = objs[todo[0]].get("apiVersion", "")
        what = gvk(source, self.list_kind if as_list else self.kind)
        try:
            converted = await self._call([objs[i] for i in todo], desired, what)
        except ConversionError as e:
            raise _failure(str(e)) from None
        if len(converted) != len(todo):
            raise _failure(f"conversion webhook for {what} returned {len(converted)} objects, expected {len(todo)}")
        out = list(objs)
        for n, (i, c) in enumerate(zip(todo, converted)):
            out[i] = self._one(objs[i], c, desired, what, n, as_list)
        return out

    def _one(self, original: dict, converted, desired: str, what: str, n: int, as_list: bool) -> dict:
        if as_list:
            invalid, bad_meta = (f"conversion webhook for {what} returned invalid converted object at index {n + 1}",
                                 f"conversion webhook for {what} returned invalid metadata in object at index {n + 1}")
        else:
            invalid, bad_meta = (f"conversion webhook for {what} returned invalid object",
                                 f"conversion webhook for {what} returned invalid metadata")
        try:
            checked(original, converted, desired)
        except ConversionError as e:
            if not as_list and str(e).startswith(("invalid groupVersion", "invalid kind")):
                invalid = f"conversion webhook for {what} returned invalid object at index 0"
            raise _failure(f"{invalid}: {e}") from None
        try:
            return restore_metadata(original, converted)
        except ConversionError as e:
            raise _failure(f"{bad_meta}: {e}") from None

    async def _call(self, objects: list[dict], desired: str, what: str) -> list:
        uid = str(uuid.uuid4())
        request = review(self.review_versions, objects, desired, uid)
        url, check_hostname = await self._url(what)
        try:
            if self._client is None:
                self._client = webhook_client.client(self.client_config.get("caBundle"),
                                                     check_hostname=check_hostname, timeout=TIMEOUT_SECONDS)
            resp = await self._client.post(url, json=request)
        except webhook_client.CALL_ERRORS as e:
            raise ConversionError(f'conversion webhook for {what} failed: Post "{url}": {e}') from None
        if not 200 <= resp.status_code < 300:
            raise ConversionError(f"conversion webhook for {what} failed: {_http_failure(resp)}")
        try:
            body = orjson.loads(resp.content)
            return converted_objects(body, uid, request["apiVersion"])
        except orjson.JSONDecodeError as e:
            raise ConversionError(f"conversion webhook for {what} failed: {e}") from None
        except ConversionError as e:
            raise ConversionError(f"conversion webhook for {what} failed: {e}") from None

    async def _url(self, what: str) -> tuple[str, bool]:
        cc = self.client_config
        if cc.get("url"):
            return _with_timeout(cc["url"]), True
        svc = cc.get("service") or {}
        ns, name = svc.get("namespace", ""), svc.get("name", "")
        port, path = svc.get("port") or 443, svc.get("path") or ""
        address = await self.service_address(ns, name)
        if not address:
            named = _with_timeout(f"https://{name}.{ns}.svc:{port}{path}")
            why = f'service "{name}" not found' if address is None else f'service "{ns}/{name}" has no cluster IP'
            raise ConversionError(f'conversion webhook for {what} failed: Post "{named}": {why}')
        # Connected by address: the certificate names the Service, so only the CA is checked.
        return _with_timeout(f"https://{address}:{port}{path}"), False


def _with_timeout(url: str) -> str:
    return url + ("&" if "?" in url else "?") + f"timeout={TIMEOUT_SECONDS}s"


def _http_failure(resp) -> str:
    if resp.status_code >= 500:
        return f'an error on the server ("{resp.text.strip()}") has prevented the request from succeeding'
    return f"the server responded with the status code {resp.status_code} but did not return more information"


def _failure(message: str) -> errors.StatusError:
    """Upstream answers a converter's error as an unknown 500: the message alone, no reason."""
    return errors.StatusError(500, "", message)
