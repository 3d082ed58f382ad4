"""exec and attach: a process wired to the channels of the kubelet's stream protocol.

Channels: 0 stdin, 1 stdout, 2 stderr, 3 error (a metav1.Status when the command
ends), 4 resize ({"Width","Height"}); v5 adds 255: the client closed its stdin
(body: the channel closed). The transport (channels.py) carries them over
WebSocket or SPDY. The command is a process the runtime describes (a `podman
exec`/`podman attach` command line), run with a pseudo terminal when a tty is
asked for, so terminal resizes reach it as SIGWINCH.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import pty
import struct
import termios

from .channels import CLOSE, ERROR, RESIZE, STDERR, STDIN, STDOUT, Disconnected

log = logging.getLogger(__name__)

PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
             "channel.k8s.io"]


def pick_protocol(offered: list[str]) -> str | None:
    for p in PROTOCOLS:
        if p in offered:
            return p
    return None


def exit_status(code: int, argv: list[str]) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _json_status(code: int, argv: list[str]) -> bytes:
    return json.dumps(exit_status(code, argv)).encode()


def error_status(message: str) -> dict:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500}


def _controlling_tty() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _resize(fd: int, payload: bytes) -> None:
    try:
        size = json.loads(payload)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(size.get("Height", 24)),
                                                        int(size.get("Width", 80)), 0, 0))
    except (ValueError, OSError):
        pass


async def serve_process(transport, argv: list[str], env: dict[str, str], *, stdin: bool, tty: bool,
                        shown_argv: list[str], final_status=None) -> None:
    """Run argv (with env), wire it to the transport's channels, report its exit on the
    error channel. `final_status(code, argv) -> bytes | None`: what the error channel
    says at the end (default: the v4 JSON Status; older protocols say less)."""
    loop = asyncio.get_running_loop()
    send_lock = asyncio.Lock()

    async def send(ch: int, data: bytes) -> None:
        async with send_lock:
            await transport.send(ch, data)

    master = -1
    if tty:
        master, slave = pty.openpty()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=_controlling_tty)
        os.close(slave)
        os.set_blocking(master, False)
    else:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            start_new_session=True)

    async def pump_reader(reader: asyncio.StreamReader, ch: int) -> None:
        while True:
            data = await reader.read(32768)
            if not data:
                return
            await send(ch, data)

    async def pump_pty() -> None:
        q: asyncio.Queue[bytes | None] = asyncio.Queue()

        def readable() -> None:
            try:
                data = os.read(master, 32768)
            except BlockingIOError:
                return
            except OSError:  # EIO: the other side closed
                data = b""
            if not data:
                loop.remove_reader(master)
            q.put_nowait(data or None)

        loop.add_reader(master, readable)
        while True:
            data = await q.get()
            if data is None:
                return
            await send(STDOUT, data)

    async def pump_input() -> None:
        while True:
            ch, body = await transport.receive()
            if ch == STDIN and body:
                if tty:
                    os.write(master, body)
                elif proc.stdin is not None:
                    proc.stdin.write(body)
                    await proc.stdin.drain()
            elif ch == RESIZE and tty:
                _resize(master, body)
            elif ch == CLOSE and body[:1] == bytes([STDIN]):
                if tty:
                    os.write(master, b"\x04")  # end of input on a terminal
                elif proc.stdin is not None:
                    proc.stdin.close()

    outputs = [asyncio.ensure_future(pump_pty())] if tty else [
        asyncio.ensure_future(pump_reader(proc.stdout, STDOUT)),
        asyncio.ensure_future(pump_reader(proc.stderr, STDERR))]
    inputs = asyncio.ensure_future(pump_input())
    waiter = asyncio.ensure_future(proc.wait())
    try:
        done, _ = await asyncio.wait([waiter, inputs], return_when=asyncio.FIRST_COMPLETED)
        if inputs in done and inputs.exception() is not None:
            raise inputs.exception()
        code = await waiter
        await asyncio.wait(outputs, timeout=5)
        status = (final_status or _json_status)(code, shown_argv)
        if status:
            await send(ERROR, status)
        await transport.close()
    except (Disconnected, RuntimeError, OSError) as e:
        log.debug("stream ended early: %r", e)
    finally:
        inputs.cancel()
        for t in outputs:
            t.cancel()
        if proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            await proc.wait()
        if master >= 0:
            try:
                loop.remove_reader(master)
            except (ValueError, OSError):
                pass
            os.close(master)
