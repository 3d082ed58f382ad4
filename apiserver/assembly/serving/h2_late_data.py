"""Keep HTTP/2 connections alive when a response beats its request body.

hypercorn's H2 protocol looks up the stream of every DATA frame and raises
KeyError when the stream is already gone; the whole connection dies with it.
That happens whenever the server answers a POST before reading its body (a
404 for an API kubectl probes, a 401, a 403), and client-go has every other
request in flight on that same connection: they fail with "unexpected EOF"
(kubectl 1.27 `auth whoami` probing v1beta1 then v1alpha1 hit it 2 runs in 15).

The fix drops such late DATA frames, still crediting the flow-control window
(h2 ignores the stream part for a closed stream), before hypercorn sees them.
Applied once, at server start.
"""
from __future__ import annotations


def install() -> None:
    import h2.events
    from hypercorn.protocol import h2 as hyper_h2

    original = hyper_h2.H2Protocol._handle_events
    if getattr(original, "pocketkube_late_data_fix", False):
        return

    async def handle_events(self, events):
        # One event at a time, deciding when each DATA event's turn comes: a request's HEADERS
        # and DATA often arrive in one batch (its stream opens while the batch is handled), and
        # handling an earlier event may let the app answer and close a stream a later DATA belongs to.
        for event in events:
            if isinstance(event, h2.events.DataReceived) and event.stream_id not in self.streams:
                self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                await self._flush()
                continue
            await original(self, [event])

    handle_events.pocketkube_late_data_fix = True
    hyper_h2.H2Protocol._handle_events = handle_events
