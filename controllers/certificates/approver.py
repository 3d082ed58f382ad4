"""csrapproving: approves node client certificate requests as kube-controller-manager's
approver does. A kubernetes.io/kube-apiserver-client-kubelet request for a node client
certificate (O system:nodes, CN system:node:<name>, no subjectAltNames, client usages) is
approved when a SubjectAccessReview says its requester may `create`
certificatesigningrequests/selfnodeclient (renewing its own: requester = CN) or
certificatesigningrequests/nodeclient (any node's, e.g. with a bootstrap token).
A kubernetes.io/kubelet-serving request is approved when it is the node's own and names
only the addresses its Node reports (serving_approval.py: a pocketkube decision, not
upstream's). Everything else waits for a person (`kubectl certificate approve`)."""
from __future__ import annotations

import logging

from cryptography.x509.oid import NameOID

from kubeclient.resources import CERTIFICATESIGNINGREQUESTS, NODES, Resource
from kubeclient.timestamps import now as now_rfc3339

from ..base import Controller
from .issuing import (KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING, NODE_PREFIX, SignerRefused, check_request,
                      load_request, subject_alt_names)
from .serving_approval import APPROVED_MESSAGE, serving_refusal
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
        # a serving request may come before its Node reports the addresses it names
        self.nodes = self.ctx.informers.informer(NODES)
        self.nodes.add_handler(self._node_changed, lambda old, new: self._node_changed(new))

    def _node_changed(self, node: dict) -> None:
        cn = NODE_PREFIX + node["metadata"]["name"]
        for csr in self.csrs.list():
            spec = csr.get("spec") or {}
            if spec.get("signerName") == KUBELET_SERVING and spec.get("username") == cn:
                self.enqueue(csr)

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or (csr.get("status") or {}).get("certificate") \
                or has_condition(csr, "Approved") or has_condition(csr, "Denied"):
            return
        spec = csr.get("spec") or {}
        signer = spec.get("signerName")
        if signer not in (KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING):
            return
        try:
            req = load_request(csr)
            check_request(signer, req, list(spec.get("usages") or []))
        except SignerRefused:
            return   # not a node certificate its signer would issue: not ours to approve
        cn = str(req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        if signer == KUBELET_SERVING:
            refusal = serving_refusal(spec, cn, subject_alt_names(req), self.nodes.get(cn[len(NODE_PREFIX):]))
            if refusal is None:
                await self._approve(csr, APPROVED_MESSAGE)
            else:
                log.info("csrapproving: %s left for a person: %s", key, refusal)
            return
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
