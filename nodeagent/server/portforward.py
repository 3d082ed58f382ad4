"""Port-forward over WebSocket, the channel protocol the Python client speaks.

For the i-th port of `?ports=`: channel 2i carries data, 2i+1 errors; the
server first sends each channel the port number (2 bytes, little endian).
One TCP connection to the pod's IP per port. As the kubelet does, the WebSocket
closes once every one of them has ended (the pod closed its side, or it could not be
reached): a client reading until EOF, e.g. from a server answering without a
Content-Length, sees the end instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import logging
import struct

from starlette.websockets import WebSocket, WebSocketDisconnect

log = logging.getLogger(__name__)

PROTOCOLS = ["v4.channel.k8s.io", "portforward.k8s.io", "v5.channel.k8s.io", "channel.k8s.io"]


async def serve_portforward(ws: WebSocket, pod_ip: str) -> None:
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    proto = next((p for p in PROTOCOLS if p in offered), offered[0] if offered else None)
    try:
        ports = [int(p) for part in ws.query_params.getlist("ports") for p in part.split(",") if p]
    except ValueError:
        ports = []
    await ws.accept(subprotocol=proto)
    if not ports:
        await ws.close(1008)
        return
    lock = asyncio.Lock()

    async def send(ch: int, data: bytes) -> None:
        async with lock:
            await ws.send_bytes(bytes([ch]) + data)

    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task] = []
    for i, port in enumerate(ports):
        await send(2 * i, struct.pack("<H", port))
        await send(2 * i + 1, struct.pack("<H", port))
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(pod_ip, port), 5)
        except (OSError, asyncio.TimeoutError) as e:
            await send(2 * i + 1, f"error forwarding port {port} to pod: {e}".encode())
            continue
        writers[2 * i] = writer

        async def pump(reader=reader, ch=2 * i) -> None:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                await send(ch, data)
        pumps.append(asyncio.ensure_future(pump()))

    async def close_when_the_pod_is_done() -> None:
        await asyncio.gather(*pumps, return_exceptions=True)
        try:
            async with lock:
                await ws.close(1000)
        except (RuntimeError, OSError):  # the client went first
            pass

    closer = asyncio.ensure_future(close_when_the_pod_is_done())
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("bytes")
            if not data:
                continue
            w = writers.get(data[0])
            if w is not None and len(data) > 1:
                w.write(data[1:])
                await w.drain()
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass
    finally:
        for t in pumps:
            t.cancel()
        closer.cancel()
        for w in writers.values():
            w.close()
