"""Sparkplug B ingest: DDATA of 100 metrics by alias, published by a load generator process to a
Mosquitto this script starts on a free port (the tuned configuration of `ingest_mqtt.py`).

The plant: 10 edge nodes of 10 devices, each device 100 metrics (Double, Float, Int32, Int64,
Boolean in turn) registered as `protocol="sparkplug"` devices with one tag per metric. The
generator publishes NBIRTH and DBIRTHs, then rounds of DDATA (aliases only, no names or
datatypes, as the spec advises), seq numbers in step per edge node, QoS 1.

Our figure: data points per second from the first message the broker hands over until every
point is committed to the embedded DuckDB store through one `SparkplugIngest` worker (host
state machine, vectorised decode, tag mapping, refine, append with rollups, acknowledgement
after commit). Reference, same broker, same load, same run: a bare subscriber that only
decodes each payload with the Sparkplug codec (`codec.decode`, protobuf's C parser), on
aiomqtt; a second one (`reference_lean`) on our own MQTT receive client. Target: 300,000
data points/s.

`--profile` runs our worker under cProfile and prints the top functions to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import multiprocessing
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import ingest_mqtt
from _mqtt_load import publish_all
from _plant import bench_plant

from sandan.core.context import Context
from sandan.registry.models import Device, Tag
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt_wire import open_wire, subscribe, varint
from sandan.telemetry.sparkplug import sparkplug_b_pb2 as pb
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    DataType,
    Metric,
    decode,
    encode_data,
    encode_dbirth,
    encode_nbirth,
)
from sandan.telemetry.sparkplug.topics import MessageType
from sandan.telemetry.sparkplug.worker import Flush, SparkplugIngest

HOST = ingest_mqtt.HOST
GROUP = "bench"
NODES = 10
DEVICES_PER_NODE = 10
METRICS = 100
KINDS = [DataType.Double, DataType.Float, DataType.Int32, DataType.Int64, DataType.Boolean]
TAG_TYPES = {
    DataType.Double: "float",
    DataType.Float: "float",
    DataType.Int32: "int",
    DataType.Int64: "int",
    DataType.Boolean: "bool",
}
VARIANTS = 8  # value sets per device, pre-encoded


def _kind(i: int) -> DataType:
    return KINDS[i % len(KINDS)]


def _value(i: int, variant: int) -> float | int | bool:
    kind = _kind(i)
    if kind == DataType.Boolean:
        return (i + variant) % 2 == 0
    if kind in (DataType.Int32, DataType.Int64):
        return (i * 7 + variant) % 1000 - 500
    return round(20.0 + i * 0.5 + variant * 0.25, 2)


def _names() -> list[tuple[str, str]]:
    return [(f"node-{n}", f"dev-{d}") for n in range(NODES) for d in range(DEVICES_PER_NODE)]


def _setup(directory: Path) -> tuple[Context, DuckDBStore]:
    _, ctx, s, _, company_id, site_id = bench_plant(directory)
    with s:
        devices = [
            Device(
                company_id=company_id,
                site_id=site_id,
                name=f"{node}/{device}",
                protocol="sparkplug",
                external_id=f"{GROUP}/{node}/{device}",
            )
            for node, device in _names()
        ]
        s.add_all(devices)
        s.flush()
        s.add_all(
            Tag(
                company_id=company_id,
                device_id=d.id,
                name=f"m{i:03d}",
                data_type=TAG_TYPES[_kind(i)],
                range_min=-1000,
                range_max=1000,
            )
            for d in devices
            for i in range(METRICS)
        )
        s.commit()
    return ctx, DuckDBStore(directory / "telemetry.duckdb")


def _metrics_body(variant: int) -> bytes:
    """The metrics of one DDATA (by alias, no names, no datatypes), without timestamp and seq."""
    metrics = [Metric(alias=i, datatype=_kind(i), value=_value(i, variant)) for i in range(METRICS)]
    message = pb.Payload.FromString(encode_data(metrics, seq=0, timestamp=0))
    message.ClearField("timestamp")
    message.ClearField("seq")
    return message.SerializeToString()


def _messages(rounds: int, start_ms: int) -> Iterator[tuple[bytes, bytes]]:
    """Births, then `rounds` DDATA per device; seq per edge node from 0 (the NBIRTH)."""
    seqs = {node: 0 for node, _ in _names()}
    birth_metrics = [
        Metric(f"m{i:03d}", _value(i, 0), _kind(i), alias=i, timestamp=start_ms - 1000)
        for i in range(METRICS)
    ]
    for node in sorted(seqs):
        yield topics.topic(GROUP, MessageType.NBIRTH, node).encode(), encode_nbirth(0, seq=0)
        for n, device in _names():
            if n == node:
                seqs[node] += 1
                topic = topics.topic(GROUP, MessageType.DBIRTH, node, device).encode()
                yield topic, encode_dbirth(birth_metrics, seq=seqs[node])
    bodies = [_metrics_body(v) for v in range(VARIANTS)]
    data_topics = [
        (node, topics.topic(GROUP, MessageType.DDATA, node, device).encode())
        for node, device in _names()
    ]
    for r in range(rounds):
        for index, (node, topic) in enumerate(data_topics):
            seqs[node] = (seqs[node] + 1) % 256
            ts = start_ms + r * 100 + index % 100  # unique (tag, ts) per device
            payload = b"\x08" + varint(ts) + bodies[(r + index) % VARIANTS]
            yield topic, payload + b"\x18" + varint(seqs[node])


def _generate(rounds: int, start_ms: int, port: int) -> None:
    publish_all(HOST, port, _messages(rounds, start_ms), 1)


def _start_generator(rounds: int, port: int) -> multiprocessing.Process:
    start_ms = int(datetime.now(UTC).timestamp() * 1000) - rounds * 100 - 60_000
    process = multiprocessing.get_context("spawn").Process(
        target=_generate, args=(rounds, start_ms, port)
    )
    process.start()
    return process


def _births() -> int:
    return NODES * (1 + DEVICES_PER_NODE)


async def _ours(
    ctx: Context, store: DuckDBStore, rounds: int, port: int, profile: bool
) -> tuple[float, int, int]:
    worker = SparkplugIngest(
        ctx.db,
        store,
        f"mqtt://{HOST}:{port}",
        host_id=f"bench-{uuid.uuid4().hex[:6]}",
        groups=[GROUP],
        flush_ms=200,
        max_messages=3_000,
    )
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.ready.wait(), 10)
    worker.directory.fresh()
    devices = NODES * DEVICES_PER_NODE
    expected = devices * METRICS * (rounds + 1)  # + the DBIRTHs' current values
    profilers = {"prepare": cProfile.Profile(), "commit": cProfile.Profile()} if profile else {}
    busy = {"prepare": 0.0, "commit": 0.0}  # seconds in each stage (in worker threads)
    first_ms = 0.0  # when the first Sparkplug message of the load arrived
    prepare, commit = worker.sparkplug.prepare, worker.sparkplug.commit

    def timed_prepare(buffer: list[tuple[str, bytes, float]]) -> Flush:
        nonlocal first_ms
        if not first_ms:
            first_ms = min((at for t, _, at in buffer if "/STATE/" not in t), default=0.0)
        began = time.perf_counter()
        try:
            if profile:
                flush: Flush = profilers["prepare"].runcall(prepare, buffer)
                return flush
            return prepare(buffer)
        finally:
            busy["prepare"] += time.perf_counter() - began

    def timed_commit(flush: Flush) -> None:
        began = time.perf_counter()
        try:
            if profile:
                profilers["commit"].runcall(commit, flush)
            else:
                commit(flush)
        finally:
            busy["commit"] += time.perf_counter() - began

    worker.sparkplug.prepare = timed_prepare  # type: ignore[method-assign]
    worker.sparkplug.commit = timed_commit  # type: ignore[method-assign]
    cpu = time.process_time()
    generator = _start_generator(rounds, port)
    deadline = time.monotonic() + 300
    done = worker.stats
    while done.stored + done.duplicates + done.rejected < expected:
        await asyncio.sleep(0.005)
        if time.monotonic() > deadline:
            break
    elapsed = time.time() - first_ms / 1000
    for stage, profiler in profilers.items():
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print(f"--- {stage}", out.getvalue(), file=sys.stderr)
    print(
        f"in {elapsed:.2f} s: preparing {busy['prepare']:.2f} s, committing "
        f"{busy['commit']:.2f} s (wall, in their threads); the worker process used "
        f"{time.process_time() - cpu:.2f} s of CPU",
        file=sys.stderr,
    )
    generator.join()
    await worker.stop()
    await asyncio.wait_for(task, 30)
    return done.stored / elapsed, done.stored, done.rebirths_requested


async def _bare(rounds: int, port: int) -> float:
    """aiomqtt, decoding every payload with codec.decode."""
    expected = _births() + NODES * DEVICES_PER_NODE * rounds
    received = points = 0
    started = 0.0
    async with aiomqtt.Client(HOST, port, max_queued_incoming_messages=0) as client:
        await client.subscribe(f"spBv1.0/{GROUP}/#", qos=1)
        generator = _start_generator(rounds, port)

        async def count() -> None:
            nonlocal received, points, started
            async for message in client.messages:
                if not received:
                    started = time.perf_counter()
                assert isinstance(message.payload, bytes)
                points += len(decode(message.payload))
                received += 1
                if received >= expected:
                    return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(count(), timeout=300)
        elapsed = time.perf_counter() - started
        generator.join()
    return points / elapsed


async def _bare_wire(rounds: int, port: int) -> float:
    """Our receive client, decoding every payload with codec.decode."""
    expected = _births() + NODES * DEVICES_PER_NODE * rounds
    received = points = 0
    wire = await open_wire(
        HOST,
        port,
        client_id=f"bare-{uuid.uuid4().hex[:8]}",
        username=None,
        password=None,
        clean_start=True,
        session_expiry=0,
    )
    await subscribe(wire, f"spBv1.0/{GROUP}/#", 1)
    generator = _start_generator(rounds, port)
    started = 0.0
    deadline = time.perf_counter() + 300
    while received < expected and time.perf_counter() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wire.arrived.wait(), 1)
        messages, acks = wire.take()
        if messages and not received:
            started = time.perf_counter()
        for _, payload, _ in messages:
            points += len(decode(payload))
        received += len(messages)
        wire.ack(acks)
    elapsed = time.perf_counter() - started
    generator.join()
    wire.close()
    return points / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="500 rounds instead of 150")
    parser.add_argument("--profile", action="store_true", help="cProfile our worker")
    args = parser.parse_args()
    rounds = 500 if args.full else 150
    with tempfile.TemporaryDirectory() as directory:
        broker = ingest_mqtt._start_broker(Path(directory))
        port = ingest_mqtt.PORT
        try:
            ctx, store = _setup(Path(directory))
            ours, stored, rebirths = asyncio.run(_ours(ctx, store, rounds, port, args.profile))
            store.close()
            reference = asyncio.run(_bare(rounds, port))
            lean = asyncio.run(_bare_wire(rounds, port))
        finally:
            broker.terminate()
    messages = NODES * DEVICES_PER_NODE * rounds
    print(
        json.dumps(
            {
                "metric": "sparkplug_ingest_data_points_per_second",
                "value": round(ours),
                "unit": "data points/s",
                "reference": round(reference),
                "reference_name": "bare aiomqtt subscriber decoding each Sparkplug B payload "
                "(codec.decode), same load and broker",
                "ratio": round(ours / reference, 3) if reference else None,
                "reference_lean": round(lean),
                "reference_lean_name": "the same bare subscriber on our MQTT receive client "
                "(sandan.telemetry.mqtt_wire)",
                "ratio_lean": round(ours / lean, 3) if lean else None,
                "target": 300_000,
                "details": {
                    "edge_nodes": NODES,
                    "devices": NODES * DEVICES_PER_NODE,
                    "metrics_per_message": METRICS,
                    "ddata_messages": messages,
                    "stored_readings": stored,
                    "messages_per_second": round(ours / METRICS),
                    "rebirths_requested": rebirths,
                    "qos": 1,
                    "workers": 1,
                    "broker": f"mosquitto 127.0.0.1:{port} (tuned, started by this script)",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
