"""The lean MQTT 5 receive client: packet parsing over arbitrary socket reads, and a real
session against the local Mosquitto."""

from __future__ import annotations

import asyncio
import struct
import uuid

import aiomqtt
import pytest

from conftest import need_service
from sandan.telemetry.mqtt_wire import (
    MqttWire,
    MqttWireError,
    open_wire,
    puback_packets,
    subscribe,
    varint,
)


def _publish(topic: str, payload: bytes, qos: int, packet_id: int, props: bytes = b"") -> bytes:
    raw = topic.encode()
    body = struct.pack("!H", len(raw)) + raw
    body += struct.pack("!H", packet_id) if qos else b""
    body += varint(len(props)) + props + payload
    return bytes([0x30 | qos << 1]) + varint(len(body)) + body


STREAM = [
    ("sandan/v1/1/2/data", b'{"ts": 1, "values": {"a": 1}}', 0, 0, b""),
    ("sandan/v1/1/3/data", b"x" * 300, 1, 7, b""),  # a two-byte remaining length
    ("sandan/v1/9/9/data", b"", 1, 65535, b"\x01\x01"),  # with a property, empty payload
    ("센서/온도", "한글".encode(), 0, 0, b""),
]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 100_000])
async def test_parses_publishes_split_anywhere(step: int) -> None:
    wire = MqttWire()
    data = b"".join(_publish(*m) for m in STREAM) + b"\xd0\x00"  # and a PINGRESP
    for start in range(0, len(data), step):
        wire.data_received(data[start : start + step])
    messages, acks = wire.take()
    assert [(t, p) for t, p, _ in messages] == [(m[0], m[1]) for m in STREAM]
    assert acks == [7, 65535]
    assert wire.take() == ([], [])


async def test_a_server_disconnect_closes_with_the_reason() -> None:
    wire = MqttWire()
    wire.data_received(b"\xe0\x01\x8e")  # DISCONNECT, reason 0x8E session taken over
    with pytest.raises(MqttWireError, match="0x8e"):
        await wire.closed


def test_pubacks_are_the_short_success_form() -> None:
    assert puback_packets([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"


async def _wire(name: str, expiry: int) -> MqttWire:
    try:
        return await open_wire(
            "127.0.0.1",
            1883,
            client_id=name,
            username=None,
            password=None,
            clean_start=True,
            session_expiry=expiry,
        )
    except MqttWireError as exc:
        need_service(f"MQTT broker at 127.0.0.1:1883 unavailable: {exc}")
        raise


async def test_receives_and_acknowledges_from_mosquitto() -> None:
    name = f"wire-{uuid.uuid4().hex[:8]}"
    wire = await _wire(name, 60)
    await subscribe(wire, f"test/{name}/#", 1)
    async with aiomqtt.Client("127.0.0.1", 1883) as publisher:
        for i in range(50):
            await publisher.publish(f"test/{name}/{i}", f"{i}".encode(), qos=1)
    got: list[tuple[str, bytes, float]] = []
    for _ in range(100):
        if len(got) >= 50:
            break
        await asyncio.sleep(0.05)
        messages, acks = wire.take()
        got += messages
        wire.ack(acks)
    assert sorted(int(p) for _, p, _ in got) == list(range(50))
    assert {t for t, _, _ in got} == {f"test/{name}/{i}" for i in range(50)}
    wire.close()


async def test_a_malformed_subscription_is_an_error() -> None:
    wire = await _wire(f"wire-{uuid.uuid4().hex[:8]}", 0)
    with pytest.raises(MqttWireError, match="0x81"):  # Mosquitto: malformed packet
        await subscribe(wire, "bad/#/filter", 1)
    wire.close()


def test_works_on_uvloop_as_under_uvicorn() -> None:
    """uvicorn runs the platform on uvloop, whose transports are not asyncio.Transport."""
    import uvloop

    async def roundtrip() -> list[bytes]:
        name = f"wire-{uuid.uuid4().hex[:8]}"
        wire = await _wire(name, 0)
        await subscribe(wire, f"test/{name}", 1)
        async with aiomqtt.Client("127.0.0.1", 1883) as publisher:
            await publisher.publish(f"test/{name}", b"hello", qos=1)
        await asyncio.wait_for(wire.arrived.wait(), 5)
        messages, acks = wire.take()
        wire.ack(acks)
        wire.close()
        return [payload for _, payload, _ in messages]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(roundtrip()) == [b"hello"]
