"""OPC UA collector against a real asyncua server on loopback: values, rejects, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from asyncua import Node, Server, ua

from conftest import free_port
from sandan.telemetry.opcua import NodeBinding, OpcBatch, OpcUaSource, to_float, to_us

NS_URI = "urn:sandan:test:machine"


@dataclass
class Machine:
    server: Server
    temp: Node
    count: Node
    running: Node
    label: Node


async def _start_machine(port: int) -> Machine:
    """A small OPC UA server; the same call after a stop rebuilds the same node ids."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/sandan/")
    idx = await server.register_namespace(NS_URI)
    assert idx == 2
    machine = await server.nodes.objects.add_object(ua.NodeId("Machine", idx), "Machine")

    async def var(name: str, value: object, vtype: ua.VariantType) -> Node:
        return await machine.add_variable(ua.NodeId(name, idx), name, value, varianttype=vtype)

    m = Machine(
        server=server,
        temp=await var("Temp", 20.5, ua.VariantType.Double),
        count=await var("Count", 7, ua.VariantType.Int32),
        running=await var("Running", False, ua.VariantType.Boolean),
        label=await var("Label", "idle", ua.VariantType.String),
    )
    await server.start()
    return m


BINDINGS = [
    NodeBinding("ns=2;s=Temp", 1),
    NodeBinding("ns=2;s=Count", 2),
    NodeBinding("ns=2;s=Running", 3),
    NodeBinding("ns=2;s=Label", 4),
    NodeBinding("ns=2;s=DoesNotExist", 5),
]


class Sink:
    """Collects batches and answers 'what is the latest value of tag X'."""

    def __init__(self) -> None:
        self.batches: list[OpcBatch] = []

    async def __call__(self, batch: OpcBatch) -> None:
        self.batches.append(batch)

    def rows(self) -> list[tuple[int, int, float, bool]]:
        return [
            row
            for b in self.batches
            for row in zip(b.tag_ids, b.ts_us, b.values, b.status_bad, strict=True)
        ]

    def rejects(self) -> list[tuple[str, str]]:
        return [r for b in self.batches for r in b.rejects]

    def has(self, tag_id: int, value: float) -> bool:
        return any(t == tag_id and v == value for t, _, v, _ in self.rows())


async def _until(check: Callable[[], bool], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def machine(port: int) -> AsyncIterator[Machine]:
    m = await _start_machine(port)
    yield m
    with contextlib.suppress(Exception):  # some tests stop it themselves
        await m.server.stop()


def test_conversions() -> None:
    assert to_float(True) == 1.0
    assert to_float(False) == 0.0
    assert to_float(3) == 3.0
    assert to_float(2.5) == 2.5
    assert to_float("3.5") == "non-numeric value (str)"
    assert to_float([1, 2]) == "non-scalar value"
    assert to_float(None) == "null value"
    assert to_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005
    assert to_us(datetime(2024, 1, 1)) == 1_704_067_200_000_000  # naive means UTC
    assert to_us(datetime(1601, 1, 1, tzinfo=UTC)) is None  # OPC UA's "no timestamp"
    assert to_us(None) is None


def test_rejects_bad_settings() -> None:
    async def sink(_: OpcBatch) -> None: ...

    with pytest.raises(ValueError):
        OpcUaSource("opc.tcp://127.0.0.1:1", [], sink, batch_max=0)
    with pytest.raises(ValueError):
        OpcUaSource("opc.tcp://127.0.0.1:1", [], sink, backoff_initial=2, backoff_max=1)


async def test_collects_rejects_and_reconnects(machine: Machine, port: int) -> None:
    sink = Sink()
    source = OpcUaSource(
        f"opc.tcp://127.0.0.1:{port}/sandan/",
        [*BINDINGS, NodeBinding("not a node id", 6)],
        sink,
        publishing_interval_ms=50,
        flush_ms=50,
        backoff_initial=0.1,
        backoff_max=0.4,
        request_timeout=2.0,
    )
    task = asyncio.create_task(source.run())
    try:
        # Initial values come with the subscription; the string and the unknown node are rejected.
        await _until(lambda: source.connected)
        await _until(lambda: sink.has(1, 20.5) and sink.has(2, 7.0) and sink.has(3, 0.0))
        await _until(lambda: any(n == "ns=2;s=Label" for n, _ in sink.rejects()))
        rejects = dict(sink.rejects())
        assert rejects["ns=2;s=Label"] == "non-numeric value (str)"
        assert rejects["ns=2;s=DoesNotExist"] == "cannot monitor: BadNodeIdUnknown"
        assert rejects["not a node id"].startswith("invalid node id")
        assert {t for t, *_ in sink.rows()} <= {1, 2, 3}

        # Writes on the server arrive with the right tag, value and timestamp.
        stamped = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
        before = time.time_ns() // 1000
        await machine.temp.write_value(
            ua.DataValue(ua.Variant(42.25, ua.VariantType.Double), SourceTimestamp=stamped)
        )
        await machine.count.write_value(ua.Variant(1234, ua.VariantType.Int32))
        await machine.running.write_value(True)
        await machine.label.write_value("busy")
        await _until(lambda: sink.has(1, 42.25) and sink.has(2, 1234.0) and sink.has(3, 1.0))
        after = time.time_ns() // 1000
        rows = {(t, v): (ts, bad) for t, ts, v, bad in sink.rows()}
        assert rows[(1, 42.25)] == (to_us(stamped), False)  # the SourceTimestamp wins
        ts_count, bad_count = rows[(2, 1234.0)]
        assert before - 1_000_000 <= ts_count <= after + 1_000_000  # stamped by the server
        assert not bad_count
        await _until(lambda: sum(n == "ns=2;s=Label" for n, _ in sink.rejects()) == 2)
        assert source.reconnects == 0 and source.last_error is None

        # The server goes away: the source notices, and keeps retrying with backoff.
        await machine.server.stop()
        await _until(lambda: not source.connected)
        assert source.last_error is not None
        await asyncio.sleep(0.5)  # a few refused attempts

        # Same server back on the same port: reconnect and re-subscribe by itself.
        machine2 = await _start_machine(port)
        try:
            await _until(lambda: source.connected and source.reconnects >= 1)
            await machine2.temp.write_value(99.5)
            await machine2.running.write_value(True)
            await _until(lambda: sink.has(1, 99.5))
            # Unknown nodes are reported once, not on every reconnect.
            assert sum(n == "ns=2;s=DoesNotExist" for n, _ in sink.rejects()) == 1
            assert sum(n == "not a node id" for n, _ in sink.rejects()) == 1
        finally:
            await source.stop()
            await asyncio.wait_for(task, 5)
            await machine2.server.stop()
        assert not source.connected
    finally:
        if not task.done():
            await source.stop()
            await asyncio.wait_for(task, 5)


async def test_batch_max_bounds_batches(machine: Machine, port: int) -> None:
    sink = Sink()
    source = OpcUaSource(
        f"opc.tcp://127.0.0.1:{port}/sandan/",
        BINDINGS[:3],
        sink,
        publishing_interval_ms=50,
        flush_ms=10_000,  # only batch_max (and stop) can trigger a flush here
        batch_max=2,
    )
    task = asyncio.create_task(source.run())
    await _until(lambda: len(sink.rows()) >= 2)
    # The third initial value waits in the buffer until stop flushes it.
    await source.stop()
    await asyncio.wait_for(task, 5)
    assert task.result() is None
    assert all(len(b) <= 2 for b in sink.batches)
    assert {t for t, *_ in sink.rows()} == {1, 2, 3}
    assert sink.rejects() == []


async def test_stop_before_server_is_up_ends_quickly(port: int) -> None:
    sink = Sink()
    source = OpcUaSource(
        f"opc.tcp://127.0.0.1:{port}/sandan/", BINDINGS, sink, backoff_initial=0.05, backoff_max=0.1
    )
    task = asyncio.create_task(source.run())
    await _until(lambda: source.last_error is not None)
    assert not source.connected
    await source.stop()
    await asyncio.wait_for(task, 5)
    assert sink.rows() == []


async def test_failing_sink_and_stop_from_inside_the_callback(machine: Machine, port: int) -> None:
    calls: list[OpcBatch] = []

    async def sink(batch: OpcBatch) -> None:
        calls.append(batch)
        if len(calls) == 1:
            raise RuntimeError("store down")
        await source.stop()  # must not deadlock: run() is waiting for this very call

    source = OpcUaSource(
        f"opc.tcp://127.0.0.1:{port}/sandan/", BINDINGS[:1], sink, flush_ms=20, batch_max=1
    )
    task = asyncio.create_task(source.run())
    await _until(lambda: len(calls) >= 1)
    assert source.last_error == "on_batch: RuntimeError: store down"
    await machine.temp.write_value(1.5)
    await asyncio.wait_for(task, 5)
    assert len(calls) == 2 and calls[1].values == [1.5]
    assert not source.connected
