"""A lean MQTT 5 publishing connection for the simulator.

The full Gumi complex is 20,000 devices: at one step a second that is 20,000 PUBLISH
packets a second from one process, more than paho (under aiomqtt) sends on this machine's
two cores. Packets are built with a few byte joins and written in bulk, with the
transport's flow control as back-pressure; QoS 0 (Sparkplug demands it for BIRTH and DATA)
needs no state per message, QoS 1 only a count of PUBACKs against the broker's window.
The receive side is the ingest worker's `MqttWire`, which also reads the commands (Sparkplug
NCMD) sent to an edge node; this connection adds a will (the Sparkplug NDEATH) to CONNECT.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Any

from sandan.core.mqtt import Broker
from sandan.telemetry.mqtt_wire import (
    RECEIVE_MAXIMUM,
    MqttWire,
    dial,
    handshake,
    keep_alive,
    varint,
)

CONNECT, PUBLISH, PUBACK = 1, 3, 4
# CONNACK property id -> size (-1: a string or binary, -2: a string pair, -3: a varint)
_PROPERTY_SIZE = {
    **dict.fromkeys((0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A), 1),
    **dict.fromkeys((0x13, 0x21, 0x22), 2),
    **dict.fromkeys((0x02, 0x11, 0x27), 4),
    **dict.fromkeys((0x03, 0x08, 0x09, 0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F), -1),
    0x26: -2,
    0x0B: -3,
}


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(raw)) + raw


def _varint_at(buf: bytes | bytearray, i: int) -> tuple[int, int, bool]:
    """(value, position after it, complete) of the variable byte integer at `i`."""
    value, shift = 0, 0
    while i < len(buf) and shift < 28:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i, True
    return value, i, False


def publish_packet(
    topic: str, payload: bytes, *, retain: bool = False, packet_id: int | None = None
) -> bytes:
    """A PUBLISH (MQTT 5, no properties): QoS 0, or QoS 1 with a packet id."""
    body = _string(topic)
    if packet_id is not None:
        body += struct.pack("!H", packet_id)
    body += b"\x00" + payload
    first = PUBLISH << 4 | int(retain) | (0x02 if packet_id is not None else 0)
    return bytes([first]) + varint(len(body)) + body


def receive_maximum(connack: bytes) -> int:
    """The broker's Receive Maximum (QoS 1 messages it takes unacknowledged) from CONNACK."""
    length, j, _ = _varint_at(connack, 2)
    end = min(j + length, len(connack))
    while j < end:
        prop = connack[j]
        size = _PROPERTY_SIZE.get(prop)
        if prop == 0x21:
            return int(struct.unpack_from("!H", connack, j + 1)[0])
        if size is None:
            break
        if size > 0:
            j += 1 + size
        elif size == -3:
            j = _varint_at(connack, j + 1)[1]
        else:
            j += 1
            for _ in range(-size):  # one string, or a pair
                j += 2 + int(struct.unpack_from("!H", connack, j)[0])
    return 65_535


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


def connect_packet(
    client_id: str,
    *,
    username: str | None,
    password: str | None,
    keepalive: int,
    will: Will | None,
) -> bytes:
    """CONNECT (clean start, no session kept) with an optional will."""
    flags = 0x02 | (0x80 if username else 0) | (0x40 if password else 0)
    if will is not None:
        flags |= 0x04 | will.qos << 3 | (0x20 if will.retain else 0)
    props = b"\x21" + struct.pack("!H", RECEIVE_MAXIMUM)
    body = _string("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive)
    body += varint(len(props)) + props + _string(client_id)
    if will is not None:
        body += b"\x00" + _string(will.topic) + _string(will.payload)  # no will properties
    if username:
        body += _string(username)
    if password:
        body += _string(password)
    return bytes([CONNECT << 4]) + varint(len(body)) + body


class PublishWire(MqttWire):
    """`MqttWire` plus write flow control: `drain()` waits while the socket buffer is full,
    and for QoS 1 a window of unacknowledged messages (`window`, the broker's Receive
    Maximum): PUBACKs are counted here, every other packet goes on to `MqttWire`."""

    def __init__(self) -> None:
        super().__init__()
        self._writable = asyncio.Event()
        self._writable.set()
        self._incoming = bytearray()
        self.window = RECEIVE_MAXIMUM
        self.unacked = 0
        self._acked = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        buf = self._incoming
        buf += data
        pos, others = 0, bytearray()
        while len(buf) - pos >= 2:
            length, i, complete = _varint_at(buf, pos + 1)
            if not complete and i - pos > 4:  # malformed: let MqttWire refuse it
                others += buf[pos:]
                pos = len(buf)
                break
            if not complete or i + length > len(buf):
                break
            if buf[pos] >> 4 == PUBACK:
                self.unacked = max(0, self.unacked - 1)
                self._acked.set()
            else:
                others += buf[pos : i + length]
            pos = i + length
        del buf[:pos]
        if others:
            super().data_received(bytes(others))

    async def room(self) -> None:
        """Wait until another QoS 1 message fits in the window."""
        while self.unacked >= self.window and not self.closed.done():
            self._acked.clear()
            acked: asyncio.Future[Any] = asyncio.ensure_future(self._acked.wait())
            waiters: list[asyncio.Future[Any]] = [acked, self.closed]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            acked.cancel()
        if self.closed.done():
            self.closed.result()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._writable.set()

    async def drain(self) -> None:
        if not self._writable.is_set():
            await self._writable.wait()
        if self.closed.done():
            self.closed.result()  # raises the MqttWireError that closed it

    def abort(self) -> None:
        """Drop the connection without DISCONNECT, as a crash does: the broker sends the will."""
        if self._transport is not None:
            self._transport.abort()


async def connect(
    broker: Broker, client_id: str, *, will: Will | None = None, keepalive: int = 30
) -> tuple[PublishWire, asyncio.Task[None]]:
    """Connect (over TLS for an mqtts:// broker) and complete the handshake; returns the wire
    and its keep-alive task."""
    wire = await dial(PublishWire, broker.host, broker.port, broker.ssl_context)
    packet = connect_packet(
        client_id,
        username=broker.username,
        password=broker.password,
        keepalive=keepalive,
        will=will,
    )
    wire.window = receive_maximum(await handshake(wire, packet))
    return wire, asyncio.create_task(keep_alive(wire, keepalive))
