"""What kube-apiserver's certificate admission plugins do, around the admission chain.

  * who asked: on create of a CertificateSigningRequest, spec.username, uid, groups and
    extra are the requesting user's, whatever the client sent (upstream's PrepareForCreate);
  * CertificateSubjectRestriction: no kubernetes.io/kube-apiserver-client request for the
    system:masters group;
  * CertificateApproval: writing /approval needs the verb `approve` on the resource
    `signers` (group certificates.k8s.io) named after the request's signerName, or
    `<domain>/*`;
  * CertificateSigning: changing status.certificate through /status needs `sign` the same way.

The verb questions go to the whole authorizer chain, so under AlwaysAllow they never refuse.
Installed by the assembly (apiserver/assembly/server.py), as the RBAC escalation guard is.
"""
from __future__ import annotations

import base64

from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import AdmitFunc, Attributes

from .reviews import AccessAttributes
from .tokens import MASTERS_GROUP

GROUP = "certificates.k8s.io"
PLURAL = "certificatesigningrequests"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"


def _is_csr(attrs: Attributes) -> bool:
    return attrs.resource.group == GROUP and attrs.resource.plural == PLURAL and attrs.object is not None


def _spec(obj: dict | None) -> dict:
    spec = (obj or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def record_requester(obj: dict, user: UserInfo) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return   # a spec of the wrong type: the schema reports it
    for k in ("username", "uid", "groups", "extra"):
        spec.pop(k, None)
    spec["username"] = user.name
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups"] = list(user.groups)
    if user.extra:
        spec["extra"] = {k: list(v) for k, v in user.extra.items()}


def requested_organizations(request_b64) -> list[str]:
    """The O values of the CSR in spec.request ([] when it does not parse: validation says why)."""
    try:
        csr = x509.load_pem_x509_csr(base64.b64decode(request_b64))
    except (TypeError, ValueError):
        return []
    return [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def _forbidden(attrs: Attributes, reason: str) -> errors.StatusError:
    return errors.forbidden(f'{PLURAL}.{GROUP} "{attrs.name}" is forbidden: {reason}',
                            name=attrs.name, group=GROUP, kind=PLURAL)


def _certificate(obj: dict | None) -> str:
    status = (obj or {}).get("status")
    return (status.get("certificate") or "") if isinstance(status, dict) else ""


def certificate_guards(mutate: AdmitFunc, validate: AdmitFunc, authorizer) -> tuple[AdmitFunc, AdmitFunc]:
    """(mutate, validate) with the certificate rules before the chain's own."""

    async def may(user: UserInfo, verb: str, signer: str) -> bool:
        if MASTERS_GROUP in user.groups:
            return True
        names = [signer]
        domain, slash, _ = signer.partition("/")
        if slash:
            names.append(f"{domain}/*")
        for name in names:
            ok, _ = await authorizer.authorize(user, AccessAttributes(
                verb=verb, is_resource_request=True, group=GROUP, resource="signers", name=name))
            if ok:
                return True
        return False

    async def guarded_mutate(attrs: Attributes) -> None:
        if attrs.operation == "CREATE" and _is_csr(attrs):
            record_requester(attrs.object, attrs.user)
        await mutate(attrs)

    async def guarded_validate(attrs: Attributes) -> None:
        if _is_csr(attrs):
            signer = str(_spec(attrs.object).get("signerName") or "")
            if attrs.operation == "CREATE" and signer == KUBE_APISERVER_CLIENT \
                    and MASTERS_GROUP in requested_organizations(_spec(attrs.object).get("request")):
                raise _forbidden(attrs, f"use of {signer} signer with {MASTERS_GROUP} group is not allowed")
            if attrs.operation == "UPDATE" and attrs.subresource == "approval" \
                    and not await may(attrs.user, "approve", signer):
                raise _forbidden(attrs, f'user not permitted to approve requests with signerName "{signer}"')
            if attrs.operation == "UPDATE" and attrs.subresource == "status" \
                    and _certificate(attrs.object) != _certificate(attrs.old_object) \
                    and not await may(attrs.user, "sign", signer):
                raise _forbidden(attrs, f'user not permitted to sign requests with signerName "{signer}"')
        await validate(attrs)

    return guarded_mutate, guarded_validate
