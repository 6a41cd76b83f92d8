"""MQTT ingest with ThingsBoard's message shape: 5,000 device topics, a JSON message of three
data points each, published by a load generator process to the local Mosquitto.

Our figure: messages/s from the first publish until every reading is committed in the
embedded store (one MqttIngest worker: decode, map tags, refine, DuckDB append, rollups).
Reference: a bare aiomqtt subscriber that only decodes the JSON, under the same load from the
same generator against the same broker, measured in the same run. A second reference runs the
same bare subscriber on our own receive client (`mqtt_wire`), so `ratio_lean` is the cost of
the pipeline alone. The load generator (`_mqtt_load.py`) writes pre-encoded packets.
Targets (issue 3): >= 30,000 msg/s and >= half of the bare subscriber's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson
from _mqtt_load import publish_all
from _plant import bench_plant

from sandan.core.context import Context
from sandan.registry.models import Device, Tag
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MqttIngest
from sandan.telemetry.mqtt_wire import open_wire, subscribe

DEVICES = 5_000
HOST = "127.0.0.1"
PORT = 18830  # replaced by the broker this script starts
QOS = 1
BROKER_CONF = """
listener {port} 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
max_inflight_messages 1000
max_queued_messages 500000
persistence false
"""


def _setup(directory: Path) -> tuple[Context, int, list[int]]:
    _, ctx, s, _, company_id, site_id = bench_plant(directory)
    with s:
        devices = [
            Device(company_id=company_id, site_id=site_id, name=f"meter-{i}")
            for i in range(DEVICES)
        ]
        s.add_all(devices)
        s.flush()
        s.add_all(
            Tag(company_id=company_id, device_id=d.id, name=name, range_min=lo, range_max=hi)
            for d in devices
            for name, lo, hi in (
                ("temperature", -40, 120),
                ("humidity", 0, 100),
                ("pressure", 800, 1200),
            )
        )
        ids = [d.id for d in devices]
        s.commit()
    return ctx, company_id, ids


def _start_broker(directory: Path) -> subprocess.Popen[bytes]:
    """Mosquitto tuned as docs/operations.md advises (TCP_NODELAY, deep queues), on a free port."""
    global PORT
    with socket.socket() as s:
        s.bind((HOST, 0))
        PORT = int(s.getsockname()[1])
    conf = directory / "mosquitto.conf"
    conf.write_text(BROKER_CONF.format(port=PORT))
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex((HOST, PORT)) == 0:
                return broker
        time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def _generate(
    company_id: int, device_ids: list[int], rounds: int, start_ms: int, port: int, qos: int
) -> None:
    """The load generator (its own process): every device publishes `rounds` messages."""
    topics = [f"sandan/v1/{company_id}/{device}/data".encode() for device in device_ids]
    messages = (
        (
            topics[i],
            orjson.dumps(
                {
                    "ts": start_ms + r * 1000 + i % 1000,
                    "values": {
                        "temperature": 20 + (i + r) % 30,
                        "humidity": 40 + i % 50,
                        "pressure": 1000 + (r % 20),
                    },
                }
            ),
        )
        for r in range(rounds)
        for i in range(len(device_ids))
    )
    publish_all(HOST, port, messages, qos)


def _start_generator(
    company_id: int, device_ids: list[int], rounds: int
) -> multiprocessing.Process:
    start_ms = int(datetime.now(UTC).timestamp() * 1000) - rounds * 1000 - 5000
    process = multiprocessing.get_context("spawn").Process(
        target=_generate, args=(company_id, device_ids, rounds, start_ms, PORT, QOS)
    )
    process.start()
    return process


async def _ours(
    ctx: Context, store: DuckDBStore, company_id: int, device_ids: list[int], rounds: int
) -> tuple[float, int]:
    worker = MqttIngest(
        ctx.db,
        store,
        f"mqtt://{HOST}:{PORT}",
        group=f"b{uuid.uuid4().hex[:6]}",
        flush_ms=200,
        max_messages=30_000,
        qos=QOS,
    )
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.ready.wait(), 10)
    worker.directory.fresh()
    expected = len(device_ids) * rounds
    generator = _start_generator(company_id, device_ids, rounds)
    while worker.stats.messages == 0:  # time from the first message the broker hands over
        await asyncio.sleep(0.001)
    started = time.perf_counter()
    deadline = started + 100
    while worker.stats.stored + worker.stats.duplicates + worker.stats.rejected < expected * 3:
        await asyncio.sleep(0.01)
        if time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - started
    generator.join()
    await worker.stop()
    task.cancel()
    return worker.stats.messages / elapsed, worker.stats.stored


async def _bare(company_id: int, device_ids: list[int], rounds: int) -> float:
    expected = len(device_ids) * rounds
    received = 0
    async with aiomqtt.Client(HOST, PORT, max_queued_incoming_messages=0) as client:
        await client.subscribe(f"sandan/v1/{company_id}/+/data", qos=QOS)
        generator = _start_generator(company_id, device_ids, rounds)
        started = 0.0

        async def count() -> None:
            nonlocal received, started
            async for message in client.messages:
                if not received:
                    started = time.perf_counter()
                orjson.loads(message.payload)  # type: ignore[arg-type]
                received += 1
                if received >= expected:
                    return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(count(), timeout=100)
        elapsed = time.perf_counter() - started
        generator.join()
    return received / elapsed


async def _bare_wire(company_id: int, device_ids: list[int], rounds: int) -> float:
    """The same bare subscriber on our receive client: the cost of the pipeline alone."""
    expected = len(device_ids) * rounds
    received = 0
    wire = await open_wire(
        HOST,
        PORT,
        client_id=f"bare-{uuid.uuid4().hex[:8]}",
        username=None,
        password=None,
        clean_start=True,
        session_expiry=0,
    )
    await subscribe(wire, f"sandan/v1/{company_id}/+/data", QOS)
    generator = _start_generator(company_id, device_ids, rounds)
    started = 0.0
    deadline = time.perf_counter() + 100
    while received < expected and time.perf_counter() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wire.arrived.wait(), 1)
        messages, acks = wire.take()
        if messages and not received:
            started = time.perf_counter()
        for _, payload, _ in messages:
            orjson.loads(payload)
        received += len(messages)
        wire.ack(acks)
    elapsed = time.perf_counter() - started
    generator.join()
    wire.close()
    return received / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="60 rounds instead of 20")
    parser.add_argument("--qos", type=int, default=1, choices=(0, 1))
    args = parser.parse_args()
    global QOS
    QOS = args.qos
    rounds = 60 if args.full else 20
    with tempfile.TemporaryDirectory() as directory:
        broker = _start_broker(Path(directory))
        ctx, company_id, device_ids = _setup(Path(directory))
        store = DuckDBStore(Path(directory) / "telemetry.duckdb")
        ours, stored = asyncio.run(_ours(ctx, store, company_id, device_ids, rounds))
        reference = asyncio.run(_bare(company_id, device_ids, rounds))
        wire_reference = asyncio.run(_bare_wire(company_id, device_ids, rounds))
        store.close()
        broker.terminate()
    print(
        json.dumps(
            {
                "metric": "mqtt_ingest_messages_per_second",
                "value": round(ours),
                "unit": "msg/s",
                "reference": round(reference),
                "reference_name": "bare aiomqtt subscriber decoding the JSON, same load and broker",
                "ratio": round(ours / reference, 3) if reference else None,
                "reference_lean": round(wire_reference),
                "reference_lean_name": "bare subscriber on our own MQTT receive client "
                "(sandan.telemetry.mqtt_wire) decoding the JSON",
                "ratio_lean": round(ours / wire_reference, 3) if wire_reference else None,
                "target": 30_000,
                "details": {
                    "devices": len(device_ids),
                    "messages": len(device_ids) * rounds,
                    "data_points_per_message": 3,
                    "stored_readings": stored,
                    "data_points_per_second": round(ours * 3),
                    "qos": QOS,
                    "workers": 1,
                    "broker": f"mosquitto 127.0.0.1:{PORT} (tuned, started by this script)",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
