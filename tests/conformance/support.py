"""Small helpers the upstream e2e framework provides: watch with expectations, polling."""
from __future__ import annotations

import json
import queue
import urllib.parse
import threading
import time

from kubernetes import client, watch


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Poll until predicate() is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Watcher:
    """A watch running in the background, as client-go's watch.Interface: events queue up
    and the test takes them in order (expect_event) or checks none arrives (expect_no_event)."""

    def __init__(self, list_func, *, resource_version: str | None = None, **kwargs):
        self.events: queue.Queue = queue.Queue()
        self._watch = watch.Watch()
        if resource_version is not None:
            kwargs["resource_version"] = resource_version
        self._thread = threading.Thread(target=self._run, args=(list_func, kwargs), daemon=True)
        self._thread.start()
        time.sleep(0.3)  # let the watch be established before the test writes

    def _run(self, list_func, kwargs):
        try:
            for ev in self._watch.stream(list_func, _request_timeout=120, **kwargs):
                self.events.put((ev["type"], ev["raw_object"]))
        except Exception as e:  # surfaced by the next expect_*
            self.events.put(("__error__", e))

    def stop(self):
        self._watch.stop()

    def next(self, timeout: float = 30.0):
        kind, obj = self.events.get(timeout=timeout)
        if kind == "__error__":
            raise obj
        return kind, obj

    def expect_event(self, event_type: str, obj: dict | None = None, timeout: float = 30.0) -> dict:
        """The next event with this type (and, when obj is given, this resourceVersion of it)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event_type} event for {obj and obj['metadata']['name']}")
            try:
                kind, got = self.next(left)
            except queue.Empty:
                continue
            if kind != event_type:
                continue
            if obj is None or _same_version(got, obj):
                return got

    def expect_no_event(self, event_type: str, obj: dict | None = None, wait: float = 2.0):
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                kind, got = self.next(left)
            except queue.Empty:
                return
            if kind == event_type and (obj is None or _same_version(got, obj)):
                raise AssertionError(f"unexpected {event_type} event: {got['metadata']}")


def _same_version(got: dict, want: dict) -> bool:
    gm, wm = got.get("metadata", {}), want.get("metadata", {})
    return gm.get("name") == wm.get("name") and gm.get("resourceVersion") == wm.get("resourceVersion")


def todict(api_client, model) -> dict:
    """A typed client object as the JSON dict the server sent."""
    return api_client.sanitize_for_serialization(model)


class RawResponse:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def raw_request(api_client, method: str, path: str, *, body: bytes | str | None = None,
                headers: dict | None = None, query: dict | None = None) -> RawResponse:
    """A request with exactly these bytes and headers (the typed client would re-encode
    bodies and pick its own Accept), through the client's own TLS and credentials."""
    cfg = api_client.configuration
    url = cfg.host.rstrip("/") + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    hdrs = {"Accept": "application/json"}
    for setting in cfg.auth_settings().values():
        if setting.get("in") == "header" and setting.get("value"):
            hdrs[setting["key"]] = setting["value"]
    hdrs.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    r = api_client.rest_client.pool_manager.request(method, url, body=body, headers=hdrs, preload_content=True)
    return RawResponse(r.status, r.headers, r.data)


def retry_on_conflict(update, attempts: int = 5):
    """client-go's retry.RetryOnConflict: read-modify-write again when another writer (a
    controller, or the node agent writing a pod's status) got there first."""
    for _ in range(attempts - 1):
        try:
            return update()
        except client.ApiException as e:
            if e.status != 409:
                raise
    return update()
