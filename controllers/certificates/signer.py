"""csrsigning: issues approved CertificateSigningRequests of the kubernetes.io signers with
the cluster CA (--cluster-signing-cert-file / --cluster-signing-key-file), as
kube-controller-manager does. A request its signer refuses gets a Failed condition
(reason SignerValidationFailure); requests of other signers are left to their signers.
Without the CA files the controller does nothing (upstream skips it the same way)."""
from __future__ import annotations

import base64
import datetime as dt
import logging

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubeclient.resources import CERTIFICATESIGNINGREQUESTS
from kubeclient.timestamps import now as now_rfc3339

from ..base import Controller
from .issuing import SIGNERS, SignerRefused, check_request, issue, load_request

log = logging.getLogger(__name__)


def has_condition(csr: dict, kind: str) -> bool:
    return any(c.get("type") == kind for c in (csr.get("status") or {}).get("conditions") or [])


def waiting_for_signature(csr: dict) -> bool:
    status = csr.get("status") or {}
    return (has_condition(csr, "Approved") and not has_condition(csr, "Denied")
            and not has_condition(csr, "Failed") and not status.get("certificate"))


class CSRSigningController(Controller):
    name = "csrsigning"

    def setup(self) -> None:
        opts = self.ctx.options
        self.ca_cert = self.ca_key = None
        if opts.cluster_signing_cert_file and opts.cluster_signing_key_file:
            with open(opts.cluster_signing_cert_file, "rb") as f:
                self.ca_cert = x509.load_pem_x509_certificate(f.read())
            with open(opts.cluster_signing_key_file, "rb") as f:
                self.ca_key = serialization.load_pem_private_key(f.read(), password=None)
        else:
            log.info("csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file: not signing")
        self.max_duration = dt.timedelta(seconds=opts.cluster_signing_duration)
        self.csrs = self.ctx.informers.informer(CERTIFICATESIGNINGREQUESTS)
        self.csrs.add_handler(self.enqueue, lambda old, new: self.enqueue(new))

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or self.ca_key is None or not waiting_for_signature(csr):
            return
        spec = csr.get("spec") or {}
        if spec.get("signerName") not in SIGNERS:
            return
        usages = list(spec.get("usages") or [])
        try:
            req = load_request(csr)
            check_request(spec["signerName"], req, usages)
        except SignerRefused as e:
            await self._fail(csr, str(e))
            return
        pem = issue(req, usages, self.ca_cert, self.ca_key, self.max_duration, spec.get("expirationSeconds"),
                    dt.datetime.now(dt.timezone.utc))
        body = dict(csr, status=dict(csr.get("status") or {}, certificate=base64.b64encode(pem).decode()))
        await self.client.update_status(CERTIFICATESIGNINGREQUESTS, body)
        log.info("csrsigning: issued %s (%s)", key, spec["signerName"])

    async def _fail(self, csr: dict, message: str) -> None:
        now = now_rfc3339()
        status = dict(csr.get("status") or {})
        status["conditions"] = [*(status.get("conditions") or []), {
            "type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now}]
        await self.client.update_status(CERTIFICATESIGNINGREQUESTS, dict(csr, status=status))
        log.info("csrsigning: refused %s: %s", csr["metadata"]["name"], message)
