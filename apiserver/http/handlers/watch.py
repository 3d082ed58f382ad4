"""Watch: a chunked stream of newline-delimited JSON events.

Bookmarks (allowWatchBookmarks) go out after each quiet interval, carrying the
newest revision this watch has seen. timeoutSeconds ends the stream cleanly.
A too-old resourceVersion is an ERROR event carrying a 410 Status inside an
HTTP 200 stream, which is the form clients handle.
"""
from __future__ import annotations

import asyncio

import orjson
from starlette.responses import StreamingResponse

from apiserver.http.context import RequestContext
from apiserver.http.negotiation import JSON, negotiate
from apiserver.http.tables import partial, table
from apiserver.machinery import errors
from apiserver.registry.options import ListOptions
from apiserver.registry.watching import bookmark_object, encode_event, encode_stored_event

# The scope extension under which the server (assembly/serving/direct_body.py) offers to write a
# response body straight to its HTTP/1.1 connection; the server takes this key from here.
DIRECT_BODY = "pocketkube.direct_body"
# Buffered events joined into one write, up to about this many bytes.
BATCH_BYTES = 64 * 1024


async def watch(rc: RequestContext):
    out = negotiate(rc.request.headers.get("accept"))
    if out.convert == "PartialObjectMetadataList":
        raise errors.not_acceptable()
    opts = ListOptions.from_query(rc.query)
    if rc.info.name:  # GET .../pods/<name>?watch=true watches that one object
        sel = f"metadata.name={rc.info.name}"
        opts.field_selector = f"{opts.field_selector},{sel}" if opts.field_selector else sel
    stream = rc.store.watch(rc.namespace, opts)
    await stream.start()
    # Upstream: absent or 0 is the server's own limit; a negative timeout ends the watch
    # at once (its timer has already fired), with a clean empty stream.
    timeout = max(opts.timeout_seconds, 0) if opts.timeout_seconds else rc.server.watch_timeout
    interval = rc.server.bookmark_interval
    resource, strategy, query = rc.resource, rc.store.strategy, rc.query

    def render(kind: str, item) -> bytes:
        # A Table's first event carries the column definitions: `first` is cleared by the
        # caller once the event is out (a direct write may refuse it, and then it is rendered again).
        if out.convert == "Table":
            return encode_event(kind, table(resource, strategy, [item], out, query, with_columns=first))
        if out.convert == "PartialObjectMetadata":
            return encode_event(kind, orjson.dumps(partial(item.obj, out.api_version)))
        return encode_stored_event(kind, item)

    first = True
    metrics = rc.server.metrics
    counted = metrics.watch_events.values if metrics is not None else {}
    event_key = (resource.group, resource.version, resource.kind)

    # Events may be written straight to the connection (an HTTP/1.1 chunk, an HTTP/2
    # DATA frame) by the fan-out itself while this watch is idle (see
    # serving/direct_body.py); the response's start, bursts, refusals (a slow reader),
    # bookmarks and the end go through this generator and ASGI as before.
    opener = (rc.request.scope.get("extensions") or {}).get(DIRECT_BODY)
    direct_write = None

    def deliver(kind: str, item) -> bool:
        nonlocal first
        if not direct_write(render(kind, item)):
            return False
        first = False
        counted[event_key] = counted.get(event_key, 0) + 1
        return True

    async def events():
        nonlocal direct_write, opener, first
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        stream.tick_every(interval if opts.allow_bookmarks else timeout, deadline)
        # Events already waiting (a burst, or the initial ADDED of every object) go out
        # in one write: one chunk, one TLS record, one send instead of one each.
        pending: list[bytes] = []
        size = 0
        try:
            while True:
                if pending and (size >= BATCH_BYTES or not stream.ready()):
                    yield b"".join(pending)
                    pending.clear()
                    size = 0
                armed = False
                if not pending and opener is not None:
                    if direct_write is None:  # the response has started: its headers are out
                        direct_write = opener["open"]()
                        if direct_write is None:
                            opener = None
                    armed = direct_write is not None and stream.deliver_directly(deliver)
                try:
                    ev = await stream.next()
                except StopAsyncIteration:
                    break
                finally:
                    if armed:
                        stream.deliver_directly(None)
                if loop.time() >= deadline:
                    break
                if ev is None:
                    if opts.allow_bookmarks:
                        pending.append(encode_event("BOOKMARK", bookmark_object(resource, stream.revision)))
                    continue
                kind, item = ev
                if kind == "ERROR":
                    pending.append(encode_event("ERROR", orjson.dumps(item.status())))
                    break
                chunk = render(kind, item)
                first = False
                pending.append(chunk)
                size += len(chunk)
                counted[event_key] = counted.get(event_key, 0) + 1
            if pending:
                yield b"".join(pending)
        finally:
            await stream.close()

    return StreamingResponse(events(), media_type=JSON, headers={"Cache-Control": "no-cache, private"})
