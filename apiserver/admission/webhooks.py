"""Dynamic admission: MutatingAdmissionWebhook and ValidatingAdmissionWebhook.

The write is sent as an admission.k8s.io/v1 AdmissionReview over HTTPS (the
webhook's caBundle is the only trust), to `clientConfig.url` or to the named
Service's cluster IP. Mutating webhooks answer with a base64 JSONPatch applied
to the object; any webhook may deny (the answer's status becomes the error)
and add warnings. A webhook that cannot be reached fails the write
(failurePolicy Fail) or is skipped (Ignore).
"""
from __future__ import annotations

import base64
import uuid

import jsonpatch

from apiserver.machinery import errors, webhook_client
from apiserver.machinery.errors import StatusError
from apiserver.registry.attributes import Attributes

from .plugin import Plugin
from .timing import observe_step
from .webhook_match import webhook_matches

GROUP = "admissionregistration.k8s.io"


def review_request(attrs: Attributes, uid: str) -> dict:
    r = attrs.resource
    kind = {"group": r.group, "version": r.version, "kind": r.kind}
    resource = {"group": r.group, "version": r.version, "resource": r.plural}
    if attrs.subresource:
        sub = r.subresource(attrs.subresource)
        if sub is not None:
            kind = {"group": sub.group if sub.group is not None else r.group,
                    "version": sub.version or r.version, "kind": sub.kind}
    req = {"uid": uid, "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
           "name": attrs.name or ((attrs.object or {}).get("metadata") or {}).get("name", ""),
           "operation": attrs.operation, "userInfo": attrs.user.to_dict(),
           "object": attrs.object, "oldObject": attrs.old_object, "dryRun": bool(attrs.dry_run),
           "options": attrs.options or None}
    if attrs.subresource:
        req["subResource"] = attrs.subresource
        req["requestSubResource"] = attrs.subresource
    if attrs.namespace:
        req["namespace"] = attrs.namespace
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def denial(name: str, status: dict | None) -> StatusError:
    """Upstream's ToStatusErr: the webhook's status, at least a 400, prefixed with who denied."""
    status = dict(status or {})
    code = int(status.get("code") or 0)
    code = code if code >= 400 else 400
    denied_by = f'admission webhook "{name}" denied the request'
    if status.get("message"):
        message = f"{denied_by}: {status['message']}"
    elif status.get("reason"):
        message = f"{denied_by}: {status['reason']}"
    else:
        message = f"{denied_by} without explanation"
    details = status.get("details") or {}
    return StatusError(code, status.get("reason") or "", message, name=details.get("name", ""),
                       group=details.get("group", ""), kind=details.get("kind", ""))


class _Webhooks(Plugin):
    config_plural = ""
    is_mutating = False

    async def _url(self, client_config: dict) -> tuple[str, bool]:
        """(URL, verify hostname) for a webhook's clientConfig."""
        if client_config.get("url"):
            return client_config["url"], True
        svc_ref = client_config.get("service") or {}
        svc = await self.get("", "services", svc_ref.get("namespace", ""), svc_ref.get("name", ""))
        ip = ((svc or {}).get("spec") or {}).get("clusterIP")
        if not ip or ip == "None":
            raise OSError(f'service "{svc_ref.get("namespace")}/{svc_ref.get("name")}" has no cluster IP')
        path = svc_ref.get("path") or ""
        # Connected by address: the certificate names the service, so only the CA is checked.
        return f"https://{ip}:{svc_ref.get('port') or 443}{path}", False

    async def _call(self, webhook: dict, attrs: Attributes) -> dict:
        uid = str(uuid.uuid4())
        cc = webhook.get("clientConfig") or {}
        url, check_hostname = await self._url(cc)
        timeout = float(webhook.get("timeoutSeconds") or 10)
        resp = await webhook_client.post_json(url, review_request(attrs, uid), cc.get("caBundle"),
                                              check_hostname=check_hostname, timeout=timeout)
        if resp.status_code != 200:
            raise OSError(f"expected webhook response of 200, got {resp.status_code}")
        body = resp.json()
        response = (body or {}).get("response")
        if not isinstance(response, dict):
            raise OSError("webhook response was absent")
        if response.get("uid") != uid:
            raise OSError(f"expected response.uid={uid}, got {response.get('uid')}")
        return response

    async def _run(self, attrs: Attributes) -> None:
        r = attrs.resource
        if r.group == GROUP:
            return  # webhook configurations are never sent to webhooks
        configs = await self.list(GROUP, self.config_plural, "")
        if not configs:
            return
        ns_labels = None
        if r.namespaced and attrs.namespace:
            ns = await self.get("", "namespaces", "", attrs.namespace)
            ns_labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        for cfg in sorted(configs, key=lambda c: (c.get("metadata") or {}).get("name", "")):
            for webhook in cfg.get("webhooks") or []:
                if webhook_matches(webhook, attrs, ns_labels):
                    await self._one(webhook, attrs)

    timings = None   # apiserver_admission_webhook_admission_duration_seconds, set by build_chain

    async def _one(self, webhook: dict, attrs: Attributes) -> None:
        if self.timings is None:
            return await self._one_untimed(webhook, attrs)
        kind = "admit" if self.is_mutating else "validating"
        await observe_step(self.timings, (webhook.get("name", ""), kind), attrs.operation,
                           self._one_untimed(webhook, attrs))

    async def _one_untimed(self, webhook: dict, attrs: Attributes) -> None:
        name = webhook.get("name", "")
        if attrs.dry_run and webhook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            raise errors.bad_request(f'admission webhook "{name}" does not support dry run')
        try:
            response = await self._call(webhook, attrs)
        except webhook_client.CALL_ERRORS as e:
            if webhook.get("failurePolicy", "Fail") == "Ignore":
                return
            raise errors.internal_error(f'failed calling webhook "{name}": failed to call webhook: {e}') from None
        for w in response.get("warnings") or []:
            attrs.warnings.append(str(w))
        if not response.get("allowed"):
            raise denial(name, response.get("status"))
        patch = response.get("patch")
        if patch and self.is_mutating and isinstance(attrs.object, dict):
            if response.get("patchType", "JSONPatch") != "JSONPatch":
                raise errors.internal_error(f'failed calling webhook "{name}": unsupported patch type')
            try:
                ops = jsonpatch.JsonPatch.from_string(base64.b64decode(patch).decode())
                attrs.object = ops.apply(attrs.object)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, ValueError) as e:
                raise errors.internal_error(f'admission webhook "{name}" returned an invalid patch: {e}') from None


class MutatingAdmissionWebhook(_Webhooks):
    name = "MutatingAdmissionWebhook"
    mutating = True
    config_plural = "mutatingwebhookconfigurations"
    is_mutating = True

    async def admit(self, attrs: Attributes) -> None:
        await self._run(attrs)


class ValidatingAdmissionWebhook(_Webhooks):
    name = "ValidatingAdmissionWebhook"
    validating = True
    config_plural = "validatingwebhookconfigurations"

    async def validate(self, attrs: Attributes) -> None:
        await self._run(attrs)
