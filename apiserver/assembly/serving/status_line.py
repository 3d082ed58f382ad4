"""HTTP/1.1 status lines with their reason phrase (`HTTP/1.1 404 Not Found`).

hypercorn builds h11 responses from the ASGI status code alone, and h11 then
writes an empty reason (`HTTP/1.1 404 `). Go's net/http, which kube-apiserver
serves with, always writes the standard phrase, and clients build their messages
from it: the official Python client's ApiException.reason, and
utils.create_from_yaml's `Error from server (Conflict): ...`, are empty without it.

The fix fills the phrase in on every h11 response hypercorn sends (app
responses, WebSocket denials, hypercorn's own error answers), at the one method
they all pass through. HTTP/2 has no reason phrase. Applied once, at server start.
The phrase is set on the event hypercorn just built (h11 events are frozen dataclasses,
so through object.__setattr__): building a second Response validated every header again,
which cost about 3% of a GET's CPU.
"""
from __future__ import annotations

from http import HTTPStatus


def reason_phrase(status_code: int) -> bytes:
    """The phrase Go's http.StatusText gives (the same IANA table as Python's)."""
    try:
        return HTTPStatus(status_code).phrase.encode("ascii")
    except ValueError:  # a code with no standard phrase: Go writes "status code N"
        return f"status code {status_code}".encode("ascii")


_PHRASES: dict[int, bytes] = {}


def _phrase(status_code: int) -> bytes:
    phrase = _PHRASES.get(status_code)
    if phrase is None:
        phrase = reason_phrase(status_code)
        if len(_PHRASES) < 1000:   # codes are three digits; the bound only guards the memo
            _PHRASES[status_code] = phrase
    return phrase


def install() -> None:
    import h11
    from hypercorn.protocol.h11 import H11Protocol

    original = H11Protocol._send_h11_event
    if getattr(original, "pocketkube_reason_phrase", False):
        return

    async def send_h11_event(self, event):
        if isinstance(event, (h11.Response, h11.InformationalResponse)) and not event.reason:
            object.__setattr__(event, "reason", _phrase(event.status_code))
        await original(self, event)

    send_h11_event.pocketkube_reason_phrase = True
    H11Protocol._send_h11_event = send_h11_event
