"""csrapproving: approves node client certificate requests as kube-controller-manager's
approver does. A kubernetes.io/kube-apiserver-client-kubelet request for a node client
certificate (O system:nodes, CN system:node:<name>, no subjectAltNames, client usages) is
approved when a SubjectAccessReview says its requester may `create`
certificatesigningrequests/selfnodeclient (renewing its own: requester = CN) or
certificatesigningrequests/nodeclient (any node's, e.g. with a bootstrap token).
Everything else waits for a person (`kubectl certificate approve`)."""
from __future__ import annotations

import logging

from cryptography.x509.oid import NameOID

from kubeclient.resources import CERTIFICATESIGNINGREQUESTS, Resource
from kubeclient.timestamps import now as now_rfc3339

from ..base import Controller
from .issuing import KUBE_APISERVER_CLIENT_KUBELET, SignerRefused, check_request, load_request
from .signer import has_condition

log = logging.getLogger(__name__)

SUBJECTACCESSREVIEWS = Resource("authorization.k8s.io", "v1", "subjectaccessreviews", False)
SELF = ("selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview.")
ANY = ("nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview.")


def node_client_permissions(csr: dict, common_name: str) -> list[tuple[str, str]]:
    """The (subresource, message) pairs to try, in upstream's order (pure)."""
    spec = csr.get("spec") or {}
    return [SELF, ANY] if spec.get("username") == common_name else [ANY]


class CSRApprovingController(Controller):
    name = "csrapproving"

    def setup(self) -> None:
        self.csrs = self.ctx.informers.informer(CERTIFICATESIGNINGREQUESTS)
        self.csrs.add_handler(self.enqueue, lambda old, new: self.enqueue(new))

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or (csr.get("status") or {}).get("certificate") \
                or has_condition(csr, "Approved") or has_condition(csr, "Denied"):
            return
        spec = csr.get("spec") or {}
        if spec.get("signerName") != KUBE_APISERVER_CLIENT_KUBELET:
            return
        try:
            req = load_request(csr)
            check_request(KUBE_APISERVER_CLIENT_KUBELET, req, list(spec.get("usages") or []))
        except SignerRefused:
            return   # not a node client certificate: not ours to approve
        cn = str(req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        for subresource, message in node_client_permissions(csr, cn):
            if await self._may(spec, subresource):
                await self._approve(csr, message)
                return
        log.info("csrapproving: %s is a node client request but its requester may not have it approved", key)

    async def _may(self, spec: dict, subresource: str) -> bool:
        review = await self.client.create(SUBJECTACCESSREVIEWS, {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": spec.get("username", ""), "uid": spec.get("uid", ""),
                     "groups": spec.get("groups") or [], "extra": spec.get("extra") or {},
                     "resourceAttributes": {"group": "certificates.k8s.io", "resource": "certificatesigningrequests",
                                            "verb": "create", "subresource": subresource, "version": "*"}}})
        return bool((review.get("status") or {}).get("allowed"))

    async def _approve(self, csr: dict, message: str) -> None:
        now = now_rfc3339()
        status = dict(csr.get("status") or {})
        status["conditions"] = [*(status.get("conditions") or []), {
            "type": "Approved", "status": "True", "reason": "AutoApproved", "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now}]
        await self.client.update(CERTIFICATESIGNINGREQUESTS, dict(csr, status=status), subresource="approval")
        log.info("csrapproving: approved %s", csr["metadata"]["name"])
