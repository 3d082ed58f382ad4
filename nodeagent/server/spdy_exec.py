"""exec and attach over SPDY/3.1, as kubectl before 1.30 asks the kubelet for them.

After the upgrade, kubectl opens one stream per channel, each named by its
`streamtype` header: error first, then stdin, stdout, stderr (not with a tty)
and resize (with a tty, protocol v3 and later). We wait until every stream the
request's parameters call for is there, run the process, and at its end write
the outcome on the error stream: a JSON Status in v4.channel.k8s.io (exit codes
reach kubectl), the error text alone in the older protocols, nothing on success.
"""
from __future__ import annotations

import asyncio
import json
import logging

from .channels import CLOSE, ERROR, RESIZE, STDERR, STDIN, STDOUT, Disconnected
from .spdy_session import SpdySession, Stream
from .streams import exit_status, serve_process

log = logging.getLogger(__name__)

PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]
STREAM_CREATION_TIMEOUT_S = 30.0     # the kubelet's default
_OUTPUT = {STDOUT: "stdout", STDERR: "stderr", ERROR: "error"}


def pick_protocol(offered: list[str]) -> str | None:
    """The newest protocol both sides speak; with none offered, the first one (as upstream)."""
    if not offered:
        return "channel.k8s.io"
    return next((p for p in PROTOCOLS if p in offered), None)


def expected_streams(protocol: str, *, stdin: bool, stdout: bool, stderr: bool, tty: bool) -> set[str]:
    kinds = {"error"}
    if stdin:
        kinds.add("stdin")
    if stdout:
        kinds.add("stdout")
    if stderr and not tty:
        kinds.add("stderr")
    if tty and protocol in ("v4.channel.k8s.io", "v3.channel.k8s.io"):
        kinds.add("resize")
    return kinds


def final_status(protocol: str):
    """What the error stream says when the process ends, for a protocol."""
    def v4(code: int, argv: list[str]) -> bytes | None:
        return json.dumps(exit_status(code, argv)).encode()

    def older(code: int, argv: list[str]) -> bytes | None:
        return None if code == 0 else exit_status(code, argv)["message"].encode()
    return v4 if protocol == "v4.channel.k8s.io" else older


class SpdyChannels:
    """serve_process's channels on the streams of one SPDY connection."""

    def __init__(self, session: SpdySession, streams: dict[str, Stream]):
        self.session, self.streams = session, streams
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.pumps = [asyncio.ensure_future(self._pump_stdin())] if "stdin" in streams else []
        if "resize" in streams:
            self.pumps.append(asyncio.ensure_future(self._pump_resize()))

    async def _pump_stdin(self) -> None:
        s = self.streams["stdin"]
        while (data := await self.session.read(s)) is not None:
            self.incoming.put_nowait((STDIN, data))
        # the client's FIN on stdin closes the process's input; a lost connection ends the stream
        self.incoming.put_nowait(None if self.session.closed or s.reset else (CLOSE, bytes([STDIN])))

    async def _pump_resize(self) -> None:
        decoder, buf = json.JSONDecoder(), ""
        while (data := await self.session.read(self.streams["resize"])) is not None:
            buf += data.decode("utf-8", "replace")
            while buf.strip():
                try:
                    obj, end = decoder.raw_decode(buf.lstrip())
                except ValueError:
                    break        # an object cut in two: wait for the rest
                buf = buf.lstrip()[end:]
                self.incoming.put_nowait((RESIZE, json.dumps(obj).encode()))

    async def send(self, ch: int, data: bytes) -> None:
        s = self.streams.get(_OUTPUT.get(ch, ""))
        if s is not None:
            await self.session.send_data(s, data)

    async def receive(self) -> tuple[int, bytes]:
        item = await self.incoming.get()
        if item is None:
            raise Disconnected()
        return item

    async def close(self) -> None:
        for kind in ("stdout", "stderr", "error"):
            if kind in self.streams:
                await self.session.finish(self.streams[kind])
        for p in self.pumps:
            p.cancel()
        await self.session.close()


async def serve_spdy_process(conn, protocol: str, argv: list[str], env: dict[str, str], *, stdin: bool,
                             stdout: bool, stderr: bool, tty: bool, shown_argv: list[str]) -> None:
    """Run a process for a client that upgraded to SPDY (the 101 is already sent)."""
    session = SpdySession(conn)
    wanted = expected_streams(protocol, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    streams: dict[str, Stream] = {}
    all_there = asyncio.Event()

    async def on_stream(s: Stream) -> None:
        streams[s.kind] = s
        if wanted <= streams.keys():
            all_there.set()

    reader = asyncio.ensure_future(session.run(on_stream))
    waiting = asyncio.ensure_future(all_there.wait())
    try:
        done, _ = await asyncio.wait([waiting, reader], timeout=STREAM_CREATION_TIMEOUT_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            log.info("SPDY %s: streams %s never came (got %s)", protocol, sorted(wanted), sorted(streams))
            return
        await serve_process(SpdyChannels(session, streams), argv, env, stdin=stdin, tty=tty,
                            shown_argv=shown_argv, final_status=final_status(protocol))
    finally:
        waiting.cancel()
        reader.cancel()
        await session.close()
