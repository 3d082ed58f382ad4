"""The raw-upgrade convention (see the package) put into hypercorn's HTTP/1.1 path.

Three of hypercorn's methods are wrapped in place, once:

  HTTPStream.handle     marks an upgrade request (its scope gets EXTENSION) and,
                        once switched, hands the peer's bytes to the app;
  HTTPStream.app_send   once switched, sends the app's bodies as they are (a 101
                        would otherwise suppress them) and closes on the last;
  H11Protocol.stream_send  on the 101 of a marked request: lets h11 write it,
                        then stops parsing HTTP (the peer's bytes come through as
                        the same pass-through events hypercorn uses for
                        WebSocket) and writes the app's bytes straight out;
                        the stream's end closes the connection.

HTTP/2 never carries these upgrades (the header is connection-specific), so
only the HTTP/1.1 path changes behaviour.
"""
from __future__ import annotations

EXTENSION = "http.upgrade.raw"
_MARK = "pocketkube_raw_upgrade"


def asks_raw_upgrade(headers) -> bool:
    """A `Connection: upgrade` request for a protocol hypercorn does not handle itself."""
    connection = upgrade = ""
    for name, value in headers:
        n = name.decode("latin-1").strip().lower() if isinstance(name, bytes) else name.lower()
        v = value.decode("latin-1") if isinstance(value, bytes) else value
        if n == "connection":
            connection += "," + v.lower()
        elif n == "upgrade":
            upgrade = v.strip().lower()
    tokens = {t.strip() for t in connection.split(",")}
    return "upgrade" in tokens and upgrade not in ("", "websocket", "h2c")


class _WithExtension:
    """The app wrapper hypercorn calls, adding EXTENSION to the request's scope."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, *args, **kwargs):
        scope.setdefault("extensions", {})[EXTENSION] = {}
        return await self.inner(scope, *args, **kwargs)


class _PassThrough:
    """Stands in for the h11 connection after the switch, as hypercorn's WebSocket
    connection does: the peer's bytes come out as Data events, unparsed."""

    our_state = None          # never recycled for another request
    their_state = None
    they_are_waiting_for_100_continue = False
    trailing_data = (b"", False)

    def __init__(self, h11_connection, data_event):
        self._data_event = data_event
        self.buffer = bytearray(h11_connection.trailing_data[0])

    def receive_data(self, data: bytes) -> None:
        self.buffer.extend(data)

    def next_event(self):
        import h11
        if self.buffer:
            data, self.buffer = bytes(self.buffer), bytearray()
            return self._data_event(stream_id=1, data=data)
        return h11.NEED_DATA

    def send(self, event) -> bytes:     # nothing goes through h11 any more
        return b""

    def start_next_cycle(self) -> None:
        pass


def install() -> None:
    from hypercorn.events import Closed, RawData
    from hypercorn.protocol.events import Body, Data, Request, Response, StreamClosed
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.http_stream import HTTPStream

    if getattr(HTTPStream.handle, _MARK, False):
        return
    stream_handle, stream_app_send = HTTPStream.handle, HTTPStream.app_send
    protocol_stream_send = H11Protocol.stream_send

    async def handle(self, event):
        if isinstance(event, Request) and asks_raw_upgrade(event.headers):
            self.raw_upgrade = "asked"
            self.app = _WithExtension(self.app)
        elif isinstance(event, Data) and getattr(self, "raw_upgrade", "") == "switched":
            if self.app_put is not None and not self.closed:
                await self.app_put({"type": "http.request", "body": bytes(event.data), "more_body": True})
            return
        await stream_handle(self, event)

    async def app_send(self, message):
        if message is not None and getattr(self, "raw_upgrade", "") == "switched" \
                and message["type"] == "http.response.body":
            if message.get("body"):
                await self.send(Body(stream_id=self.stream_id, data=bytes(message["body"])))
            if not message.get("more_body", False):
                await self._send_closed()
            return
        await stream_app_send(self, message)

    async def stream_send(self, event):
        stream = self.stream
        if getattr(self, "raw_switched", False):
            if isinstance(event, Body):
                await self.send(RawData(data=event.data))
            elif isinstance(event, StreamClosed):
                await self._close_stream()
                await self.send(Closed())
            return
        await protocol_stream_send(self, event)
        if isinstance(event, Response) and event.status_code == 101 \
                and getattr(stream, "raw_upgrade", "") == "asked":
            stream.raw_upgrade = "switched"
            self.raw_switched = True
            self.connection = _PassThrough(self.connection, Data)
            await self.can_read.set()     # the read loop waits (h11 paused) until the answer

    for f in (handle, app_send, stream_send):
        setattr(f, _MARK, True)
    HTTPStream.handle, HTTPStream.app_send = handle, app_send
    H11Protocol.stream_send = stream_send
