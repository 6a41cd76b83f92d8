"""A lean MQTT 3.1.1 load generator for the ingest benchmarks.

paho's publish path (a Python object, a lock and a queue per message, plus PUBACK handling
in its network thread) tops out near the rate we want to measure, on the same two cores as
the broker and the worker. This generator pre-encodes PUBLISH packets and writes them in
large chunks; at QoS 1 it keeps a window of unacknowledged messages and counts the 4-byte
PUBACKs. Our worker and the reference subscriber get the same generator, so the comparison
stays fair.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
from collections.abc import Iterable

from sandan.telemetry.mqtt_wire import varint

WINDOW = 1000  # unacknowledged QoS 1 messages in flight


def _string(raw: bytes) -> bytes:
    return struct.pack("!H", len(raw)) + raw


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = _string(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60)
    body += _string(f"load-{uuid.uuid4().hex[:10]}".encode())
    sock.sendall(bytes([0x10]) + varint(len(body)) + body)
    connack = sock.recv(4)
    if len(connack) < 4 or connack[3] != 0:
        raise RuntimeError(f"the broker refused the load generator: {connack!r}")
    return sock


def publish_packet(topic: bytes, payload: bytes, qos: int, packet_id: int) -> bytes:
    body = _string(topic) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + varint(len(body)) + body


def publish_all(
    host: str, port: int, messages: Iterable[tuple[bytes, bytes]], qos: int, chunk: int = 200
) -> int:
    """Publish (topic, payload) pairs; at QoS 1 return once every message is acknowledged."""
    sock = _connect(host, port)
    sent = acked = 0
    pending = bytearray()
    packet_id = 0
    received = bytearray()

    def drain(limit: int) -> None:
        nonlocal acked
        while sent - acked > limit:
            received.extend(sock.recv(65536))
            acks, rest = divmod(len(received), 4)
            acked += acks
            del received[: acks * 4]
            del rest

    for topic, payload in messages:
        packet_id = packet_id % 65535 + 1
        pending += publish_packet(topic, payload, qos, packet_id)
        sent += 1
        if sent % chunk == 0:
            sock.sendall(pending)
            pending.clear()
            if qos:
                drain(WINDOW)
    if pending:
        sock.sendall(pending)
    if qos:
        drain(0)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    time.sleep(0.05)
    sock.close()
    return sent
