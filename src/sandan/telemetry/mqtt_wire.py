"""A receive-only MQTT 5 client for the ingest hot path.

Why not paho (through aiomqtt) here: paho 2.2 reads each packet header a byte per `recv`
call, builds a `Properties` object for every PUBLISH (about 10 µs on this machine) and
aiomqtt adds a message object, a queue and an `asyncio.wait` per message. Measured on the
2-core benchmark machine, that alone capped the worker near 8,000 msg/s. This client parses
whole socket reads in one loop into (topic, payload, received ms) tuples and sends the
PUBACKs of a committed flush in one write. It does only what an ingest worker needs:
CONNECT (MQTT 5, session expiry, credentials), SUBSCRIBE, receiving PUBLISH at QoS 0 and 1,
PUBACK on request, keep-alive and DISCONNECT, over TCP or TLS (`dial` with the context of
`sandan.core.mqtt`, the asyncio loop's own TLS). Everything else (the Sparkplug host client,
the Frigate listener, the tests' peers) keeps using aiomqtt.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sandan.core.mqtt import tls_failure

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 8, 9
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14
RECEIVE_MAXIMUM = 65_535
CONNACK_REASONS = {  # MQTT 5 CONNACK reason codes an operator can act on
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized: check the user and password in the URL",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
}
_W = TypeVar("_W", bound="MqttWire")


class MqttWireError(ConnectionError):
    """The broker refused us or the connection broke: the worker reconnects."""


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(raw)) + raw


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + varint(len(body)) + body


def connect_packet(
    client_id: str,
    *,
    username: str | None,
    password: str | None,
    clean_start: bool,
    session_expiry: int,
    keepalive: int,
    will: tuple[str, bytes] | None = None,
) -> bytes:
    """CONNECT with Session Expiry (0x11) and Receive Maximum (0x21) properties, and an
    optional retained QoS 1 will (a Sparkplug host's STATE death)."""
    flags = (
        (0x02 if clean_start else 0)
        | (0x04 | 1 << 3 | 0x20 if will else 0)  # will, will QoS 1, will retain
        | (0x80 if username else 0)
        | (0x40 if password else 0)
    )
    props = (
        b"\x11" + struct.pack("!I", session_expiry) + b"\x21" + struct.pack("!H", RECEIVE_MAXIMUM)
    )
    body = _string("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive)
    body += varint(len(props)) + props + _string(client_id)
    if will:
        body += b"\x00" + _string(will[0]) + _string(will[1])  # no will properties
    if username:
        body += _string(username)
    if password:
        body += _string(password)
    return _packet(CONNECT, 0, body)


def publish_packet(
    topic: str, payload: bytes, *, qos: int = 0, retain: bool = False, packet_id: int = 0
) -> bytes:
    """An MQTT 5 PUBLISH without properties (a Sparkplug host's STATE and rebirth requests)."""
    body = _string(topic) + (struct.pack("!H", packet_id) if qos else b"") + b"\x00" + payload
    return _packet(PUBLISH, (qos << 1) | (1 if retain else 0), body)


def subscribe_packet(packet_id: int, topic_filter: str, qos: int) -> bytes:
    return _packet(
        SUBSCRIBE, 2, struct.pack("!H", packet_id) + b"\x00" + _string(topic_filter) + bytes([qos])
    )


def puback_packets(packet_ids: list[int]) -> bytes:
    """PUBACKs with reason 'success' (the 2-byte short form of MQTT 5), one write for all."""
    return b"".join(struct.pack("!BBH", PUBACK << 4, 2, pid) for pid in packet_ids)


def _property_length(buf: bytearray, j: int) -> tuple[int, int]:
    """The length of a PUBLISH's properties (a variable byte integer) and where they start."""
    length, shift = 0, 0
    while True:
        byte = buf[j]
        j += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return length, j


class MqttWire(asyncio.Protocol):
    """One connection. Received messages collect in `messages` (and the packet ids to
    acknowledge in `pending_acks`) until the worker takes them."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, float]] = []
        self.pending_acks: list[int] = []
        self.arrived = asyncio.Event()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Read by the worker's pump when it matters; never "exception was never retrieved".
        self.closed.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.last_arrival = 0.0
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self.secure = False  # over TLS
        self._replies: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports (under uvicorn) are not asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)
        self.secure = transport.get_extra_info("sslcontext") is not None

    def connection_lost(self, exc: Exception | None) -> None:
        # TLS 1.3: a broker refusing our client certificate says so after the handshake.
        said = exc and (tls_failure(exc, "the broker") or exc)
        error = MqttWireError(f"connection lost: {said}" if said else "connection closed")
        futures: list[asyncio.Future[Any]] = [self.closed, *self._replies.values()]
        for future in futures:
            if not future.done():
                future.set_exception(error)
        self.arrived.set()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        now = time.time() * 1000
        size, pos = len(buf), 0
        messages, acks = self.messages, self.pending_acks
        view = memoryview(buf)
        try:
            while size - pos >= 2:
                first, i, length, shift, complete = buf[pos], pos + 1, 0, 0, False
                while i < size and shift < 28:  # the remaining length: at most 4 bytes
                    byte = buf[i]
                    i += 1
                    length |= (byte & 0x7F) << shift
                    shift += 7
                    if byte < 0x80:
                        complete = True
                        break
                if not complete:
                    if shift >= 28:
                        self._fail(MqttWireError("malformed packet length from the broker"))
                    break
                end = i + length
                if end > size:
                    break
                kind = first >> 4
                if kind == PUBLISH:
                    j = i + 2 + (buf[i] << 8 | buf[i + 1])
                    topic = str(view[i + 2 : j], "utf-8")
                    if first & 0x06:  # QoS 1 (we subscribe at most at 1, so never 2)
                        acks.append(buf[j] << 8 | buf[j + 1])
                        j += 2
                    plen, j = _property_length(buf, j)
                    messages.append((topic, bytes(view[j + plen : end]), now))
                elif kind in (CONNACK, SUBACK):
                    reply = self._replies.pop(kind, None)
                    if reply is not None and not reply.done():
                        reply.set_result(bytes(view[i:end]))
                elif kind == DISCONNECT:
                    reason = buf[i] if length else 0
                    self._fail(MqttWireError(f"broker disconnected us (reason 0x{reason:02x})"))
                pos = end
        finally:
            view.release()
        del buf[:pos]
        if messages:
            self.last_arrival = now
            self.arrived.set()

    def _fail(self, error: MqttWireError) -> None:
        futures: list[asyncio.Future[Any]] = [self.closed, *self._replies.values()]
        for future in futures:
            if not future.done():
                future.set_exception(error)
        if self._transport is not None:
            self._transport.close()

    # requests
    async def request(self, packet: bytes, reply_kind: int, timeout: float = 10.0) -> bytes:
        """Send a packet and wait for its CONNACK or SUBACK body."""
        if self.closed.done():
            self.closed.result()  # raises why the connection ended
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._replies[reply_kind] = future
        # A connection already closing (a TLS 1.3 broker refusing our certificate right after
        # the handshake) gives the future its reason in connection_lost: wait for that.
        with contextlib.suppress(MqttWireError):
            self.send(packet)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise MqttWireError("the broker did not answer in time") from None

    def send(self, packet: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise MqttWireError("not connected")
        self._transport.write(packet)

    def next_packet_id(self) -> int:
        self._next_id = self._next_id % 65_535 + 1
        return self._next_id

    def take(self) -> tuple[list[tuple[str, bytes, float]], list[int]]:
        """Everything received so far, and the packet ids it needs acknowledged."""
        messages, acks = self.messages, self.pending_acks
        self.messages, self.pending_acks = [], []
        self.arrived.clear()
        return messages, acks

    def ack(self, packet_ids: list[int]) -> None:
        if packet_ids and self._transport is not None and not self._transport.is_closing():
            self._transport.write(puback_packets(packet_ids))

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            with contextlib.suppress(Exception):
                self._transport.write(_packet(DISCONNECT, 0, b"\x00\x00"))
            self._transport.close()


async def dial(
    protocol: Callable[[], _W], host: str, port: int, tls: ssl.SSLContext | None = None
) -> _W:
    """Open the socket (TLS when `tls` is given, the host name checked against the broker's
    certificate unless the context says otherwise), or raise MqttWireError saying why."""
    loop = asyncio.get_running_loop()
    where = f"{host}:{port}"
    try:
        _, wire = await asyncio.wait_for(
            loop.create_connection(
                protocol, host, port, ssl=tls, server_hostname=host if tls else None
            ),
            10,
        )
    except (OSError, TimeoutError) as exc:
        why = tls_failure(exc, where) or f"cannot reach {where}: {exc}"
        if tls is not None and isinstance(exc, ConnectionResetError):
            why += " during the TLS handshake (a plain listener? it takes mqtt://)"
        raise MqttWireError(why) from exc
    return wire


async def handshake(wire: MqttWire, connect: bytes) -> bytes:
    """Send CONNECT and return the CONNACK body, or close and raise when refused."""
    try:
        connack = await wire.request(connect, CONNACK)
    except MqttWireError as exc:
        if "TLS" in str(exc):
            raise
        # No CONNACK and no TLS alert (lost to a reset; TLS 1.3 checks client certificates
        # after the handshake): say the likeliest causes.
        hint = (
            "the broker may require a client certificate (SANDAN_MQTT_CERT_FILE, "
            "SANDAN_MQTT_KEY_FILE) or refuse ours"
            if wire.secure
            else "if the listener is a TLS one, use mqtts://"
        )
        raise MqttWireError(f"{exc}, before CONNACK: {hint}") from exc
    if len(connack) < 2 or connack[1] >= 0x80:
        wire.close()
        code = connack[1] if len(connack) > 1 else -1
        why = f": {CONNACK_REASONS[code]}" if code in CONNACK_REASONS else ""
        raise MqttWireError(f"the broker refused the connection (reason 0x{code:02x}){why}")
    return connack


async def open_wire(
    host: str,
    port: int,
    *,
    client_id: str,
    username: str | None,
    password: str | None,
    clean_start: bool,
    session_expiry: int,
    keepalive: int = 30,
    will: tuple[str, bytes] | None = None,
    tls: ssl.SSLContext | None = None,
) -> MqttWire:
    """Connect (over TLS with `tls`) and complete the MQTT 5 handshake, or raise
    MqttWireError with the reason."""
    wire = await dial(MqttWire, host, port, tls)
    await handshake(
        wire,
        connect_packet(
            client_id,
            username=username,
            password=password,
            clean_start=clean_start,
            session_expiry=session_expiry,
            keepalive=keepalive,
            will=will,
        ),
    )
    return wire


async def subscribe(wire: MqttWire, topic_filter: str, qos: int) -> None:
    suback = await wire.request(subscribe_packet(wire.next_packet_id(), topic_filter, qos), SUBACK)
    granted = suback[-1] if suback else 0x80
    if granted >= 0x80:
        raise MqttWireError(f"the broker refused the subscription to {topic_filter!r}")


async def keep_alive(wire: MqttWire, keepalive: int) -> None:
    """PINGREQ at half the keep-alive (the broker drops us after 1.5 x without traffic)."""
    while True:
        await asyncio.sleep(keepalive / 2)
        wire.send(_packet(PINGREQ, 0, b""))


async def supervise(tasks: list[asyncio.Task[Any]], stop: asyncio.Task[Any]) -> None:
    """Run a connection's tasks until one ends: a failed one raises (so the worker
    reconnects), the stop task just returns. Every task is cancelled and awaited either way."""
    everything = [*tasks, stop]
    try:
        done, _ = await asyncio.wait(everything, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop:
                task.result()  # the connection failed: raise to reconnect
    finally:
        for task in everything:
            task.cancel()
        for task in everything:
            with contextlib.suppress(asyncio.CancelledError, MqttWireError):
                await task
