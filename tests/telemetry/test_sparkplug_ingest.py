"""Sparkplug B ingest into registry tags, against the local Mosquitto and a test edge node.

Also the vectorised payload decoder (`sparkplug/columns.py`) against `codec.decode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sparkplug_edge import EdgeNode, standard_metrics
from sqlalchemy import select
from test_ingest_metrics import _get, _samples

from conftest import World, free_port, need_service
from sandan.core.bus import Event
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    DataType,
    DecodeError,
    Metric,
    decode,
    encode_data,
    encode_dbirth,
    encode_nbirth,
    encode_payload,
)
from sandan.telemetry.sparkplug.columns import decode_payloads
from sandan.telemetry.sparkplug.topics import MessageType
from sandan.telemetry.sparkplug.worker import SparkplugIngest, SparkplugIngestor

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")

# --- the vectorised decoder -----------------------------------------------------------------

_VALUES: dict[DataType, st.SearchStrategy[Any]] = {
    DataType.Int8: st.integers(-128, 127),
    DataType.Int16: st.integers(-(2**15), 2**15 - 1),
    DataType.Int32: st.integers(-(2**31), 2**31 - 1),
    DataType.Int64: st.integers(-(2**63), 2**63 - 1),
    DataType.UInt64: st.integers(0, 2**64 - 1),
    DataType.Float: st.floats(allow_nan=False, width=32),
    DataType.Double: st.floats(allow_nan=False),
    DataType.Boolean: st.booleans(),
    DataType.String: st.text(max_size=5),
}
_METRIC = st.sampled_from(list(_VALUES)).flatmap(
    lambda datatype: st.builds(
        Metric,
        name=st.none() | st.sampled_from(["a", "b/c", "Temperature", "ü"]),
        value=st.none() | _VALUES[datatype],
        datatype=st.just(datatype),
        alias=st.none() | st.integers(0, 2**40),
        timestamp=st.none() | st.integers(0, 2**45),
    )
)


def _same(payloads: list[bytes]) -> None:
    """decode_payloads gives what codec.decode gives, payload by payload."""
    cols = decode_payloads(payloads, [123.0] * len(payloads))
    errors = dict(cols.errors)
    datatypes = np.where(cols.datatype > 0, cols.datatype, cols.fallback_types())
    values = cols.values(datatypes)
    for i, payload in enumerate(payloads):
        try:
            expected = decode(payload)
        except DecodeError:
            assert i in errors, payload
            continue
        assert i not in errors, (payload, errors[i])
        lo, hi = int(cols.first[i]), int(cols.first[i] + cols.count[i])
        assert hi - lo == len(expected)
        assert cols.seq[i] == (-1 if expected.seq is None else expected.seq)
        assert cols.alias[lo:hi].tolist() == expected.aliases.tolist()
        assert cols.names(range(lo, hi)) == expected.names
        assert datatypes[lo:hi].tolist() == expected.datatypes.tolist()
        assert np.array_equal(values[lo:hi], expected.values, equal_nan=True)
        if expected.message.HasField("timestamp"):
            assert cols.ts_ms[lo:hi].tolist() == expected.ts_ms.tolist()


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(
        st.builds(
            lambda metrics, seq, typed, cut, junk: (
                encode_payload(metrics, seq=seq, with_types=typed)[:cut] + junk
            ),
            st.lists(_METRIC, max_size=6),
            st.none() | st.integers(0, 255),
            st.booleans(),
            st.integers(0, 400),
            st.sampled_from([b"", b"", b"", b"\xff", b"\x12\x05\x10", b"\x08"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_decode_payloads_agrees_with_the_codec(payloads: list[bytes]) -> None:
    _same(payloads)


def test_decode_payloads_every_numeric_type_and_bad_payloads() -> None:
    metrics = [
        Metric("i8", -128, DataType.Int8, alias=1),
        Metric("i16", -2, DataType.Int16, alias=2),
        Metric("i32", -(2**31), DataType.Int32, alias=3),
        Metric("i64", -(2**63), DataType.Int64, alias=4),
        Metric("u32", 2**32 - 1, DataType.UInt32, alias=5),
        Metric("u64", 2**64 - 1, DataType.UInt64, alias=6, timestamp=7),
        Metric("f", 3.25, DataType.Float, alias=7),
        Metric("d", math.pi, DataType.Double, alias=8),
        Metric("b", True, DataType.Boolean, alias=9),
        Metric("s", "text", DataType.String, alias=10),
        Metric("n", None, DataType.Double, alias=11),
    ]
    _same(
        [
            encode_dbirth(metrics, seq=3, timestamp=1_700_000_000_000),
            encode_data(metrics, seq=4, timestamp=1),
            b"",
            b"\x0a\xff",  # a metric longer than the payload
            b"\x12\x02\x10\xff",  # a truncated varint inside a metric
        ]
    )
    cols = decode_payloads([b"\x12\x02\x10\xff", b"\x18\x05"], [42.0, 42.0])
    assert [i for i, _ in cols.errors] == [0]
    assert cols.seq.tolist() == [-1, 5] and cols.timestamp.tolist()[1] == 42


# --- end to end on Mosquitto ----------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DuckDBStore]:
    parts = urlsplit(URL)
    try:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883, timeout=5):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")
    s = DuckDBStore(tmp_path / "telemetry.duckdb")
    yield s
    s.close()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _clear_retained(topic: str) -> None:
    parts = urlsplit(URL)
    async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as client:
        await client.publish(topic, b"", qos=1, retain=True)


# The registry side of the edge node's device: every metric of `standard_metrics()` but
# "Pressure" (so it is an unknown metric); "Label" is a string tag (not a time series).
TAGS: dict[str, tuple[str, float | None, float | None]] = {
    "Temperature": ("float", -50.0, 150.0),
    "Level": ("int", None, None),
    "Count": ("int", 0.0, None),
    "Running": ("bool", 0.0, 1.0),
    "Offset": ("int", None, None),
    "Label": ("str", None, None),
}


def registry_device(
    ctx: Context, world: World, protocol: str, external_id: str, tags: dict[str, dict[str, Any]]
) -> tuple[int, dict[str, int]]:
    """A device of company A with these tags (name -> TagIn fields): (device id, tag ids)."""
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        device = registry.create_device(
            s,
            system,
            schemas.DeviceIn(
                site_id=world.sites["A"],
                machine_id=world.machines["A"],
                name=f"{protocol} device",
                protocol=protocol,  # type: ignore[arg-type]
                external_id=external_id,
            ),
        )
        ids = {
            name: registry.create_tag(
                s, system, schemas.TagIn(device_id=device.id, name=name, **fields)
            ).id
            for name, fields in tags.items()
        }
        return device.id, ids


def _sparkplug_device(ctx: Context, world: World, external_id: str) -> tuple[int, dict[str, int]]:
    tags = {
        name: {"data_type": kind, "range_min": lo, "range_max": hi}
        for name, (kind, lo, hi) in TAGS.items()
    }
    return registry_device(ctx, world, "sparkplug", external_id, tags)


def _latest(store: DuckDBStore, tag_id: int) -> float | None:
    rows = store.latest([tag_id]).to_pylist()
    return rows[0]["value"] if rows else None


def _dead_letters(ctx: Context) -> list[DeadLetter]:
    with ctx.db.unit() as session:
        return list(
            session.scalars(
                select(DeadLetter).where(DeadLetter.source == "sparkplug").order_by(DeadLetter.id)
            ).all()
        )


def test_one_flush_of_many_devices_in_order(ctx: Context, world: World, tmp_path: Path) -> None:
    """In process, no broker: node metrics on the node's device, interleaved DDATA of several
    devices each on its own tags, an unknown alias asks for a rebirth and drops the node's
    later messages of that birth, a payload that is not Sparkplug is dead-lettered."""
    g = _unique("sp-flush")
    node_id, node_tags = registry_device(
        ctx, world, "sparkplug", f"{g}/edge", {"Uptime": {"data_type": "float"}}
    )
    devices = {
        d: _sparkplug_device(ctx, world, f"{g}/edge/{d}") for d in ("pump-1", "pump-2", "pump-3")
    }
    metrics = standard_metrics()
    now = time.time() * 1000
    t0 = int(now) - 60_000

    def at(topic: str, payload: bytes) -> tuple[str, bytes, float]:
        return topic, payload, now

    def birth(d: str, seq: int) -> tuple[str, bytes, float]:
        born = [Metric(n, v, dt, alias=a, timestamp=t0) for n, (a, dt, v) in metrics.items()]
        return at(topics.topic(g, MessageType.DBIRTH, "edge", d), encode_dbirth(born, seq=seq))

    def ddata(d: str, seq: int, ts: int, temperature: float, alias: int = 1) -> Any:
        payload = encode_data(
            [Metric(alias=alias, datatype=DataType.Double, value=temperature)],
            seq=seq,
            timestamp=ts,
        )
        return at(topics.topic(g, MessageType.DDATA, "edge", d), payload)

    uptime = [Metric("Uptime", 5.0, DataType.Double, alias=50)]
    buffer = [
        at(topics.topic(g, MessageType.NBIRTH, "edge"), encode_nbirth(0, uptime, timestamp=t0)),
        birth("pump-1", 1),
        birth("pump-2", 2),
        birth("pump-3", 3),
        ddata("pump-1", 4, t0 + 1, 30.0),
        ddata("pump-2", 5, t0 + 1, 31.0),
        ddata("pump-3", 6, t0 + 1, 32.0),
        ddata("pump-2", 7, t0 + 2, 41.0),
        at(
            topics.topic(g, MessageType.NDATA, "edge"),
            encode_data(
                [Metric(alias=50, datatype=DataType.Double, value=6.5)], seq=8, timestamp=t0 + 2
            ),
        ),
        ddata("pump-1", 9, t0 + 2, 40.0),
        at(topics.topic(g, MessageType.DDATA, "edge", "pump-3"), b"\x0a\xff not sparkplug"),
    ]
    store = DuckDBStore(tmp_path / "t.duckdb")
    try:
        ingestor = SparkplugIngestor(ctx.db, store)
        outcome = ingestor.ingest(buffer)
        assert outcome.publish == []
        assert _latest(store, node_tags["Uptime"]) == 6.5
        for d, expected in (("pump-1", 40.0), ("pump-2", 41.0), ("pump-3", 32.0)):
            assert _latest(store, devices[d][1]["Temperature"]) == expected, d
            assert _latest(store, devices[d][1]["Offset"]) == -3.0
        assert ingestor.online_devices == {node_id, *(i for i, _ in devices.values())}

        # alias 99 was never born: a rebirth is asked for; what follows from the node is
        # dropped until it reborns (here: the rest of this flush)
        outcome = ingestor.ingest(
            [ddata("pump-1", 10, t0 + 3, 50.0, alias=99), ddata("pump-2", 11, t0 + 3, 51.0)]
        )
        (request,) = outcome.publish
        assert request[0] == topics.topic(g, MessageType.NCMD, "edge")
        assert decode(request[1]).value_of("Node Control/Rebirth") == 1.0
        assert _latest(store, devices["pump-2"][1]["Temperature"]) == 41.0
    finally:
        store.close()
    reasons = {r["reason"] for letter in _dead_letters(ctx) for r in letter.rows}
    assert "not a Sparkplug B payload: malformed protobuf" in reasons
    assert ingestor.stats.rebirths_requested == 1


async def test_sparkplug_metrics_land_on_registry_tags(
    ctx: Context, world: World, store: DuckDBStore
) -> None:
    """Births and DDATA by alias reach the right tags; an unknown metric and an unknown
    device are dead-lettered; a seq gap asks for a rebirth and data resumes; DDEATH raises
    `telemetry.device_status`."""
    group, host_id = _unique("sp-ingest"), _unique("sandan-host")
    device_id, tags = _sparkplug_device(ctx, world, f"{group}/edge-a/pump-1")
    statuses: list[dict[str, Any]] = []

    async def on_status(event: Event) -> None:
        statuses.append(event.payload)

    ctx.bus.subscribe("telemetry.device_status", on_status)
    await ctx.bus.start()
    worker = SparkplugIngest(ctx.db, store, URL, host_id=host_id, groups=[group], flush_ms=30)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        async with EdgeNode(URL, group, "edge-a", "pump-1", standard_metrics()) as edge:
            # the DBIRTH's values are current values
            await _until(lambda: _latest(store, tags["Temperature"]) == 20.5)
            assert _latest(store, tags["Level"]) == -7.0
            assert _latest(store, tags["Offset"]) == -3.0  # signed from its Int8 datatype
            assert _latest(store, tags["Count"]) == 10.0
            assert _latest(store, tags["Running"]) == 1.0
            assert _latest(store, tags["Label"]) is None  # a string tag: skipped
            await _until(lambda: device_id in worker.sparkplug.online_devices)
            born = {"device_id": device_id, "online": True, "reason": "DBIRTH"}
            await _until(lambda: born in _brief(statuses))

            await asyncio.sleep(0.01)  # a later millisecond than the birth
            await edge.ddata({"Temperature": 21.5, "Level": -8, "Running": False, "Pressure": 2})
            await _until(lambda: _latest(store, tags["Temperature"]) == 21.5)
            assert _latest(store, tags["Level"]) == -8.0
            assert _latest(store, tags["Running"]) == 0.0

            # lose seq 3: the message after the gap is dropped and a rebirth asked for
            await asyncio.sleep(0.01)
            await edge.ddata({"Temperature": 99.0}, skip_seq=True)
            await asyncio.wait_for(edge.reborn.wait(), 10)
            assert worker.stats.rebirths_requested == 1
            await _until(lambda: _latest(store, tags["Temperature"]) == 20.5)  # the rebirth
            await asyncio.sleep(0.01)
            await edge.ddata({"Temperature": 22.0, "Offset": -4})
            await _until(lambda: _latest(store, tags["Temperature"]) == 22.0)
            assert _latest(store, tags["Offset"]) == -4.0

            await edge.ddeath()
            dead = {"device_id": device_id, "online": False, "reason": "DDEATH"}
            await _until(lambda: dead in _brief(statuses))
            assert device_id not in worker.sparkplug.online_devices

            # a device the registry does not know
            async with EdgeNode(URL, group, "edge-b", "ghost", standard_metrics(), bd_seq=1):
                await _until(lambda: any(_ghost(letter) for letter in _dead_letters(ctx)))
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
        await ctx.bus.stop()
        await _clear_retained(topics.state_topic(host_id))

    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    stored = store.raw([tags["Temperature"]], start, start + timedelta(minutes=10), 100)
    assert [r["value"] for r in stored.to_pylist()] == [20.5, 21.5, 20.5, 22.0]  # never 99
    letters = _dead_letters(ctx)
    own = [letter for letter in letters if letter.device_id == device_id]
    assert own and all(letter.company_id == world.companies["A"] for letter in own)
    pressure = [row for letter in own for row in letter.rows]
    assert {row["reading"]["tag"] for row in pressure} == {"Pressure"}
    assert {row["reason"] for row in pressure} == {"not a tag of this device"}
    assert {key for letter in own for key in letter.reasons} == {"tag: not a tag of this device"}
    assert 2.0 in {row["reading"]["value"] for row in pressure}
    ghost = [letter for letter in letters if _ghost(letter)]
    assert all(letter.company_id is None and letter.device_id is None for letter in ghost)
    # 5 numeric tags in each of 2 DBIRTHs, 3 + 2 in DDATA; Pressure 3 times, the ghost's 7
    assert worker.stats.stored == 15 and worker.stats.rejected >= 10


def _brief(statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: s[k] for k in ("device_id", "online", "reason")} for s in statuses]


def _ghost(letter: DeadLetter) -> bool:
    return any("edge-b/ghost" in row.get("reason", "") for row in letter.rows)


async def test_workers_in_a_shared_subscription_split_the_data(
    ctx: Context, world: World, store: DuckDBStore
) -> None:
    """With `share_group`, DDATA is split between the workers; each sees the births, so each
    can read the aliases, and every value is stored once."""
    group, share = _unique("sp-share"), _unique("share")
    _, tags = _sparkplug_device(ctx, world, f"{group}/edge-s/pump-1")
    host_ids = [_unique("sandan-host"), _unique("sandan-host")]
    workers = [
        SparkplugIngest(
            ctx.db, store, URL, host_id=h, groups=[group], share_group=share, flush_ms=30
        )
        for h in host_ids
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for w in workers:
            await asyncio.wait_for(w.ready.wait(), 10)
        assert not workers[0].sparkplug.host.check_seq
        async with EdgeNode(URL, group, "edge-s", "pump-1", standard_metrics()) as edge:
            await _until(lambda: all(w.stats.points >= 5 for w in workers))  # both births
            for i in range(40):
                await asyncio.sleep(0.002)  # one millisecond each at least
                await edge.ddata({"Temperature": float(i), "Count": i})
            await _until(lambda: sum(w.stats.points for w in workers) >= 2 * 9 + 80)
    finally:
        for w in workers:
            await w.stop()
        for t in tasks:
            await asyncio.wait_for(t, 10)
        for h in host_ids:
            await _clear_retained(topics.state_topic(h))
    data = [w.stats.messages for w in workers]
    assert all(n > 2 for n in data), data  # the broker gave DDATA to both
    assert all(w.stats.rebirths_requested == 0 for w in workers)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    counts = store.raw([tags["Count"]], start, start + timedelta(minutes=10), 1000)
    values = [r["value"] for r in counts.to_pylist()]
    assert values == [10.0] + [float(i) for i in range(40)]  # the birth's, then each once


async def test_a_flush_that_cannot_be_stored_stops_the_worker(
    ctx: Context, world: World, store: DuckDBStore, tmp_path: Path
) -> None:
    """Nothing is acknowledged or silently dropped when the store fails: the worker ends
    with the error (the command exits non-zero and the broker keeps the messages)."""
    group, host_id = _unique("sp-fail"), _unique("sandan-host")
    _sparkplug_device(ctx, world, f"{group}/edge-f/pump-1")
    broken = DuckDBStore(tmp_path / "broken.duckdb")
    broken.close()  # every append now fails
    worker = SparkplugIngest(ctx.db, broken, URL, host_id=host_id, groups=[group], flush_ms=30)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        async with EdgeNode(URL, group, "edge-f", "pump-1", standard_metrics()) as edge:
            for i in range(5):
                await asyncio.sleep(0.1)
                if task.done():
                    break
                await edge.ddata({"Temperature": float(i)})
            await asyncio.wait(
                [task, asyncio.ensure_future(asyncio.sleep(10))],
                return_when=asyncio.FIRST_COMPLETED,
            )
        assert task.done() and isinstance(task.exception(), duckdb.Error), task
        assert worker.stats.stored == 0 and worker.stats.points > 0
    finally:
        if not task.done():
            await worker.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        await _clear_retained(topics.state_topic(host_id))


async def test_the_sparkplug_worker_command_stores_and_stops_cleanly(
    settings: Settings, ctx: Context, world: World
) -> None:
    """`sandan ingest sparkplug` as its own process: stores what an edge node sends, counts
    it on --metrics-port, then exits on SIGTERM and prints its counts."""
    async with asyncio.timeout(5):
        parts = urlsplit(URL)
        try:
            async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883):
                pass
        except aiomqtt.MqttError as exc:
            need_service(f"MQTT broker at {URL} unavailable: {exc}")
    group, host_id = _unique("sp-cli"), _unique("sandan-host")
    _, tags = _sparkplug_device(ctx, world, f"{group}/edge-c/pump-1")
    env = {**os.environ, "SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from sandan.cli import main; main()",
        "ingest",
        "sparkplug",
        "--url",
        URL,
        "--group",
        group,
        "--host-id",
        host_id,
        "--metrics-port",
        str(metrics_port := free_port()),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        lines = [await asyncio.wait_for(process.stdout.readline(), 30)]
        while b"Sparkplug B ingest worker" not in lines[-1]:  # printed once subscribed
            assert len(lines) < 10 and lines[-1], lines
            lines.append(await asyncio.wait_for(process.stdout.readline(), 30))
        async with EdgeNode(URL, group, "edge-c", "pump-1", standard_metrics()) as edge:
            for i in range(20):
                await asyncio.sleep(0.005)
                await edge.ddata({"Temperature": float(i), "Count": 100 + i})
            await asyncio.sleep(1.0)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            page = _samples(r.read().decode())
        assert _get(page, "sandan_telemetry_readings_total", source="sparkplug", outcome="stored")
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await _clear_retained(topics.state_topic(host_id))
    assert process.returncode == 0, out
    assert b"stopped: " in out and b"readings stored" in out, out
    store = DuckDBStore(settings.resolved_telemetry_path())
    try:
        assert _latest(store, tags["Temperature"]) == 19.0
        assert _latest(store, tags["Count"]) == 119.0
    finally:
        store.close()
