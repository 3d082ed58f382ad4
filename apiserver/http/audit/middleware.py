"""The ASGI middleware that audits requests as they go by.

It sits outside authentication, so failed logins (401) are audited too. The API
routes leave the authenticated user (USER_KEY; the one it impersonates, if any, under
IMPERSONATED_KEY), what the request is about
(metrics.INFO_KEY) and the authorizer's decision (DECISION_KEY) in the scope;
the policy is asked once the response starts, when all three are known.
Stages: RequestReceived and ResponseComplete for every audited request,
ResponseStarted as well for long-running ones (watch, exec, logs...), Panic when
the handler raised. Bodies are kept only for levels that log them: the request's
from Request up, the response's at RequestResponse (and a failure's Status, which
is small, always); a body past BODY_LIMIT is left out of the event. Every
response carries an Audit-Id header naming its events.
"""
from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qsl

import orjson

from apiserver.http import protobuf
from apiserver.http.metrics import INFO_KEY, is_long_running
from apiserver.http.requestinfo import parse_request_info

from . import events
from .logfile import AuditLog
from .policy import NOT_AUDITED, Decision, Policy, Request

USER_KEY = "pocketkube.user"            # the authenticated UserInfo: who sent the request
IMPERSONATED_KEY = "pocketkube.as"      # whom it acts as (Impersonate-* headers), when anyone
DECISION_KEY = "pocketkube.authz"       # ("allow" | "forbid", reason)
BODY_LIMIT = 3 * 1024 * 1024


class _Body:
    __slots__ = ("chunks", "size", "over")

    def __init__(self):
        self.chunks, self.size, self.over = [], 0, False

    def add(self, chunk: bytes) -> None:
        if self.over or not chunk:
            return
        self.size += len(chunk)
        if self.size > BODY_LIMIT:
            self.over, self.chunks = True, []
        else:
            self.chunks.append(chunk)

    def json(self):
        """The body as an object: JSON as it is, Kubernetes protobuf (kubectl sends core
        kinds so) decoded, anything else (YAML, patches in other forms) left out."""
        if self.over or not self.chunks:
            return None
        data = b"".join(self.chunks)
        try:
            if data[:1] in (b"{", b"["):
                return orjson.loads(data)
            if data.startswith(protobuf.MAGIC):
                return protobuf.decode(data)
        except Exception:       # malformed JSON, a protobuf kind not decoded here: no object
            return None
        return None


class AuditMiddleware:
    def __init__(self, app, policy: Policy, log: AuditLog):
        self.app, self.policy, self.log = app, policy, log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        audit_id = str(uuid.uuid4())
        received = dt.datetime.now(dt.timezone.utc)
        request_body, response_body = _Body(), _Body()
        state: dict = {"decision": None, "code": 500, "keep_response": False}

        async def receive_kept():
            message = await receive()
            if message["type"] == "http.request" and state["decision"] is None:
                request_body.add(message.get("body", b""))
            return message

        async def send_audited(message):
            if message["type"] == "http.response.start":
                decision, info = self._decide(scope)
                state.update(decision=decision, info=info, code=message["status"])
                message = {**message, "headers": [*message.get("headers", ()), (b"audit-id", audit_id.encode())]}
                if decision.audited:
                    self._emit(scope, state, audit_id, received, "RequestReceived", received, with_code=False)
                    long_running = is_long_running(info)
                    if long_running:
                        self._emit(scope, state, audit_id, received, "ResponseStarted")
                    # a failure's Status, a create's object (for objectRef.name), or the level's body
                    status = message["status"]
                    state["keep_response"] = status >= 400 or (info.verb == "create" and 200 <= status < 300) or (
                        decision.at_least("RequestResponse") and not long_running)
                if not decision.at_least("Request"):
                    request_body.chunks = []
            elif message["type"] == "http.response.body" and state["keep_response"]:
                response_body.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_kept, send_audited)
        except BaseException:
            if state["decision"] is None:
                decision, info = self._decide(scope)
                state.update(decision=decision, info=info, code=500)
            if state["decision"].audited:
                self._emit(scope, state, audit_id, received, "Panic")
            raise
        if state["decision"] is not None and state["decision"].audited:
            self._emit(scope, state, audit_id, received, "ResponseComplete",
                       request_body=request_body, response_body=response_body)

    def _decide(self, scope) -> tuple[Decision, object]:
        info = scope.get(INFO_KEY)
        if info is None or not info.path:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            info = parse_request_info(scope["method"], scope["path"], query)
        user = scope.get(USER_KEY)
        req = Request(user=user.name if user else "", groups=tuple(user.groups) if user else (),
                      verb=info.verb, is_resource_request=info.is_resource_request, path=scope["path"],
                      group=info.group, resource=info.resource, subresource=info.subresource,
                      namespace=info.namespace, name=info.name)
        try:
            return self.policy.decide(req), info
        except Exception:   # a policy bug must not fail the request
            return NOT_AUDITED, info

    def _emit(self, scope, state, audit_id, received, stage, stage_time=None, *, with_code=True,
              request_body: _Body | None = None, response_body: _Body | None = None) -> None:
        decision: Decision = state["decision"]
        if stage in decision.omit_stages:
            return
        info = state["info"]
        user = scope.get(USER_KEY)
        qs = scope.get("query_string", b"").decode("latin-1")
        headers = dict(scope.get("headers") or ())
        agent = headers.get(b"user-agent")
        client = scope.get("client")
        authz = scope.get(DECISION_KEY)
        annotations = {}
        if authz:
            annotations["authorization.k8s.io/decision"] = authz[0]
            if authz[1]:
                annotations["authorization.k8s.io/reason"] = authz[1]
        request_object = response_object = status_body = None
        ref = events.object_ref(info)
        if response_body is not None:
            parsed = response_body.json()
            status_body = parsed
            if decision.at_least("RequestResponse"):
                response_object = parsed
            if ref is not None and "name" not in ref and info.verb == "create" and isinstance(parsed, dict):
                name = (parsed.get("metadata") or {}).get("name") if parsed.get("kind") != "Status" else None
                if isinstance(name, str) and name:
                    ref["name"] = name     # as upstream, the created object's name
        if request_body is not None and decision.at_least("Request"):
            request_object = request_body.json()
        if decision.omit_managed_fields:
            request_object = events.without_managed_fields(request_object)
            response_object = events.without_managed_fields(response_object)
        impersonated = scope.get(IMPERSONATED_KEY)
        ev = events.event(
            audit_id=audit_id, stage=stage, level=decision.level,
            request_uri=scope["path"] + (f"?{qs}" if qs else ""), verb=info.verb,
            user=user.to_dict() if user else None,
            impersonated_user=impersonated.to_dict() if impersonated else None,
            source_ips=[client[0]] if client else [],
            user_agent=agent.decode("latin-1") if agent else None, ref=ref,
            received=received, stage_time=stage_time or dt.datetime.now(dt.timezone.utc),
            code=state["code"] if with_code else None, status_body=status_body,
            request_object=request_object, response_object=response_object, annotations=annotations)
        self.log.write(orjson.dumps(ev))
