"""The DNS server: UDP and TCP on one address, answers from Records, other names
forwarded to upstream resolvers (SERVFAIL when they do not answer in time).

Answers are cached as wire bytes keyed by the query's bytes after its ID, so a
repeated question costs one dictionary lookup; the cache is dropped whenever the
records are rebuilt (any change of the watched objects).
"""
from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

from dnslib import A, CNAME, PTR, QTYPE, RCODE, RR, SOA, SRV, TXT, DNSRecord

from .metrics import count
from .records import Records

log = logging.getLogger(__name__)

TTL = 5                 # seconds, as CoreDNS's kubernetes plugin's default
CACHE_MAX = 50_000


def _rdata(rtype: str, data):
    if rtype == "A":
        return A(data)
    if rtype == "CNAME":
        return CNAME(data + ".")
    if rtype == "PTR":
        return PTR(data + ".")
    if rtype == "TXT":
        return TXT(data)
    if rtype == "SRV":
        port, target = data
        return SRV(0, 100, port, target + ".")
    raise ValueError(rtype)


class Resolver:
    """Turns a query (bytes) into a reply (bytes), or None to forward it."""

    def __init__(self, records: Callable[[], Records]):
        self.records = records          # the current Records (rebuilt lazily by the owner)
        self.cache: dict[bytes, bytes] = {}
        self.generation = None

    def answer(self, query: bytes) -> bytes | None:
        recs = self.records()
        if recs is not self.generation:
            self.cache.clear()
            self.generation = recs
        key = bytes(query[2:])
        hit = self.cache.get(key)
        if hit is not None:
            return query[:2] + hit
        try:
            req = DNSRecord.parse(query)
        except Exception:
            return None if len(query) < 12 else self._formerr(query)
        if req.header.qr or not req.questions:
            return self._formerr(query)
        q = req.q
        got = recs.answer(str(q.qname), QTYPE.get(q.qtype, str(q.qtype)))
        if got.rcode == "REFUSED":
            return None
        reply = req.reply()
        reply.header.aa = 1
        reply.header.ra = 1
        if got.rcode == "NXDOMAIN":
            reply.header.rcode = RCODE.NXDOMAIN
        for name, rtype, data in got.records:
            reply.add_answer(RR(name + ".", getattr(QTYPE, rtype), rdata=_rdata(rtype, data), ttl=TTL))
        for name, rtype, data in recs.additional(got.records):
            reply.add_ar(RR(name + ".", QTYPE.A, rdata=_rdata(rtype, data), ttl=TTL))
        if not got.records:
            zone = recs.zone + "."
            reply.add_auth(RR(zone, QTYPE.SOA, ttl=TTL, rdata=SOA(
                "ns.dns." + zone, "hostmaster." + zone, (1, 7200, 1800, 86400, TTL))))
        wire = bytes(reply.pack())
        if len(self.cache) >= CACHE_MAX:
            self.cache.clear()
        self.cache[key] = wire[2:]
        return wire

    @staticmethod
    def _formerr(query: bytes) -> bytes:
        # ID and opcode kept, QR set, RCODE 1 (FORMERR), no sections
        flags = struct.unpack("!H", query[2:4])[0] & 0x7800 | 0x8001
        return query[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)

    @staticmethod
    def truncated(query: bytes, reply: bytes) -> bytes:
        """A UDP reply too big for the client: header with TC set and the question,
        so the client asks again over TCP. Clients with EDNS take up to 1232 bytes."""
        arcount = struct.unpack("!H", query[10:12])[0]
        if len(reply) <= (1232 if arcount else 512):
            return reply
        req = DNSRecord.parse(query)
        short = req.reply()
        short.header.tc = 1
        short.header.aa = 1
        return bytes(short.pack())

    @staticmethod
    def servfail(query: bytes) -> bytes:
        flags = struct.unpack("!H", query[2:4])[0] & 0x7900 | 0x8082   # QR, RA, SERVFAIL; RD kept
        return query[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


class _Forward(asyncio.DatagramProtocol):
    def __init__(self, fut: asyncio.Future):
        self.fut = fut

    def datagram_received(self, data, addr):
        if not self.fut.done():
            self.fut.set_result(data)

    def error_received(self, exc):
        if not self.fut.done():
            self.fut.set_exception(exc)


async def forward(query: bytes, upstreams: list[str], timeout: float) -> bytes | None:
    """Ask each upstream in turn over UDP; None when none answers."""
    loop = asyncio.get_running_loop()
    for server in upstreams:
        fut = loop.create_future()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Forward(fut), remote_addr=(server, 53))
        except OSError:
            continue
        try:
            transport.sendto(query)
            return await asyncio.wait_for(fut, timeout)
        except (OSError, asyncio.TimeoutError):
            continue
        finally:
            transport.close()
    return None


class DnsServer:
    def __init__(self, resolver: Resolver, address: str, port: int, *, upstreams: list[str],
                 forward_timeout: float = 2.0):
        self.resolver, self.address, self.port = resolver, address, port
        self.upstreams, self.forward_timeout = upstreams, forward_timeout
        self.udp: asyncio.DatagramTransport | None = None
        self.tcp: asyncio.base_events.Server | None = None
        self.name = f"dns://{address}:{port}"

    async def respond(self, query: bytes) -> bytes:
        reply = self.resolver.answer(query)
        if reply is not None:
            return reply
        if self.upstreams:
            got = await forward(query, self.upstreams, self.forward_timeout)
            if got is not None:
                return got
        return Resolver.servfail(query)

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        server = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                reply = server.resolver.answer(data)
                if reply is not None:   # the fast path stays synchronous
                    count(server.name, "udp", data, reply)
                    self.transport.sendto(reply if len(reply) <= 512 else Resolver.truncated(data, reply), addr)
                elif len(data) >= 12:
                    asyncio.ensure_future(self._slow(data, addr))

            async def _slow(self, data, addr):
                reply = await server.respond(data)
                count(server.name, "udp", data, reply)
                self.transport.sendto(Resolver.truncated(data, reply), addr)

        self.udp, _ = await loop.create_datagram_endpoint(Udp, local_addr=(self.address, self.port))
        self.port = self.udp.get_extra_info("sockname")[1]
        self.name = f"dns://{self.address}:{self.port}"   # the `server` label, as CoreDNS's
        self.tcp = await asyncio.start_server(self._tcp_client, self.address, self.port)
        log.info("cluster DNS on %s:%d (udp, tcp)", self.address, self.port)
        return self.port

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                query = await reader.readexactly(size)
                if size < 12:
                    break
                reply = await self.respond(query)
                count(self.name, "tcp", query, reply)
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        if self.udp:
            self.udp.close()
        if self.tcp:
            self.tcp.close()
