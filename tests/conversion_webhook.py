"""A real HTTPS CRD conversion webhook for tests, on loopback, with its own CA.

It converts like upstream's e2e sample: v1 has `spec.hostPort: "host:port"`,
v2 has `spec.host` and `spec.port`. `mode` makes it misbehave the ways the
API server must catch ("wrong-uid", "fail", "rename", "relabel", "too-many",
"wrong-version", "status-500"), or "lowercase-host": hosts converted to v1 are
lowercased, so a write in v2 answers something else than it sent (the round
trip through storage shows). `requests` records every review it got.
"""
from __future__ import annotations

import base64
import http.server
import json
import ssl
import tempfile
import threading
from pathlib import Path

from apiserver.auth import pki
from tests.harness import free_port


def convert(obj: dict, desired: str) -> dict:
    out = json.loads(json.dumps(obj))
    spec = out.get("spec") or {}
    if desired.endswith("/v2") and "hostPort" in spec:
        host, _, port = spec.pop("hostPort").partition(":")
        spec.update(host=host, port=port)
    elif desired.endswith("/v1") and ("host" in spec or "port" in spec):
        spec["hostPort"] = f"{spec.pop('host', '')}:{spec.pop('port', '')}"
    out["apiVersion"] = desired
    return out


class ConversionWebhook:
    def __init__(self):
        self.mode = ""
        self.requests: list[dict] = []
        self.ca_cert, ca_key = pki.make_ca("conversion-webhook-test-ca")
        cert, key = pki.make_serving_cert(self.ca_cert, ca_key, ["127.0.0.1"])
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "tls.crt").write_bytes(pki.cert_pem(cert))
            (Path(d) / "tls.key").write_bytes(pki.key_pem(key))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(Path(d) / "tls.crt", Path(d) / "tls.key")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/convert"
        self.ca_bundle = base64.b64encode(pki.cert_pem(self.ca_cert)).decode()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive, as real webhook servers do

            def do_POST(self):  # noqa: N802 - http.server's name
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.requests.append(review)
                code, body = hook.answer(review)
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, review: dict) -> tuple[int, dict]:
        req = review["request"]
        desired = req["desiredAPIVersion"]
        converted = [convert(o, desired) for o in req["objects"]]
        response = {"uid": req["uid"], "result": {"status": "Success"}, "convertedObjects": converted}
        if self.mode == "status-500":
            return 500, {"oops": True}
        if self.mode == "wrong-uid":
            response["uid"] = "not-" + req["uid"]
        elif self.mode == "fail":
            response["result"] = {"status": "Failure", "message": "cannot convert this one"}
        elif self.mode == "rename":
            for o in converted:
                o["metadata"]["name"] = "renamed"
        elif self.mode == "relabel":   # allowed: labels may change; other metadata changes are undone
            for o in converted:
                o["metadata"].setdefault("labels", {})["converted"] = "yes"
                o["metadata"]["generation"] = 99
        elif self.mode == "lowercase-host":
            for o in converted:
                if "hostPort" in o.get("spec", {}):
                    o["spec"]["hostPort"] = o["spec"]["hostPort"].lower()
        elif self.mode == "too-many":
            response["convertedObjects"] = converted + converted
        elif self.mode == "wrong-version":
            for o in converted:
                o["apiVersion"] = desired.rsplit("/", 1)[0] + "/v9"
        return 200, {"apiVersion": review["apiVersion"], "kind": "ConversionReview", "response": response}

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def crd(group: str, webhook: ConversionWebhook, *, storage: str = "v1", plural: str = "hostports",
        kind: str = "HostPort", review_versions=("v1", "v1beta1")) -> dict:
    """A namespaced CRD with v1 (hostPort) and v2 (host, port), converted by `webhook`."""
    def version(name: str, props: dict) -> dict:
        return {"name": name, "served": True, "storage": name == storage, "schema": {"openAPIV3Schema": {
            "type": "object", "properties": {"spec": {"type": "object", "properties": props}}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                     "versions": [version("v1", {"hostPort": {"type": "string"}}),
                                  version("v2", {"host": {"type": "string"}, "port": {"type": "string"}})],
                     "conversion": {"strategy": "Webhook", "webhook": {
                         "conversionReviewVersions": list(review_versions),
                         "clientConfig": {"url": webhook.url, "caBundle": webhook.ca_bundle}}}}}
