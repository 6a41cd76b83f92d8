"""OPC UA ingest from registry devices: a real asyncua server on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asyncua import ua
from sqlalchemy import select
from test_ingest_metrics import _get, _samples
from test_opcua import _start_machine
from test_sparkplug_ingest import registry_device

from conftest import World, free_port
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.endpoints import opcua_node_id
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.opcua_worker import OpcUaIngest
from sandan.telemetry.store import BAD, GOOD


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _opcua_device(ctx: Context, world: World, endpoint: str) -> tuple[int, dict[str, int]]:
    """A press read over OPC UA: node ids by source address, or by the tag name (Count)."""
    tags = {
        "temperature": ("float", "ns=2;s=Temp"),
        "Count": ("int", ""),  # read from ns=2;s=Count
        "running": ("bool", "ns=2;s=Running"),
        "label": ("str", "ns=2;s=Label"),  # a string tag: not subscribed
        "ghost": ("float", "ns=2;s=DoesNotExist"),
    }
    fields: dict[str, dict[str, Any]] = {
        name: {"data_type": kind, "source_address": address, "range_min": -100}
        for name, (kind, address) in tags.items()
    }
    return registry_device(ctx, world, "opcua", endpoint, fields)


def _latest(store: DuckDBStore, tag_id: int) -> tuple[float, int] | None:
    rows = store.latest([tag_id]).to_pylist()
    return (rows[0]["value"], rows[0]["quality"]) if rows else None


def test_node_ids_default_to_the_tag_name() -> None:
    assert opcua_node_id("Count", "") == "ns=2;s=Count"
    assert opcua_node_id("Count", None) == "ns=2;s=Count"
    assert opcua_node_id("x", "ns=3;i=1001") == "ns=3;i=1001"


async def test_opcua_values_reach_the_store_and_ingest_resumes_after_a_restart(
    ctx: Context, world: World, tmp_path: Path
) -> None:
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/sandan/"
    device_id, tags = _opcua_device(ctx, world, endpoint)
    machine = await _start_machine(port)
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    worker = OpcUaIngest(
        ctx.db,
        store,
        flush_ms=50,
        source_options={
            "publishing_interval_ms": 50,
            "flush_ms": 50,
            "backoff_initial": 0.1,
            "backoff_max": 0.4,
            "request_timeout": 2.0,
        },
    )
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        assert list(worker.sources) == [endpoint]
        # the initial values come with the subscription
        await _until(lambda: _latest(store, tags["temperature"]) == (20.5, GOOD))
        await _until(lambda: _latest(store, tags["Count"]) == (7.0, GOOD))
        await _until(lambda: _latest(store, tags["running"]) == (0.0, GOOD))

        await machine.temp.write_value(42.25)
        await machine.count.write_value(ua.Variant(1234, ua.VariantType.Int32))
        await _until(lambda: _latest(store, tags["temperature"]) == (42.25, GOOD))
        await _until(lambda: _latest(store, tags["Count"]) == (1234.0, GOOD))
        # a value with a status that is not good (here: uncertain) is kept, as BAD
        uncertain = ua.StatusCode(ua.StatusCodes.UncertainLastUsableValue)
        await machine.temp.write_value(
            ua.DataValue(ua.Variant(43.5, ua.VariantType.Double), StatusCode=uncertain)
        )
        await _until(lambda: _latest(store, tags["temperature"]) == (43.5, BAD))

        # the server goes away and comes back on the same port: ingest resumes by itself
        await machine.server.stop()
        await _until(lambda: worker.connected == 0)
        await asyncio.sleep(0.3)
        machine = await _start_machine(port)
        await _until(lambda: worker.connected == 1)
        await machine.temp.write_value(99.5)
        await _until(lambda: _latest(store, tags["temperature"]) == (99.5, GOOD))
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
        with contextlib.suppress(Exception):
            await machine.server.stop()
        store.close()

    assert worker.sources == {}
    with ctx.db.unit() as session:
        letters = session.scalars(
            select(DeadLetter).where(DeadLetter.source == "opcua").order_by(DeadLetter.id)
        ).all()
    rows = [row for letter in letters for row in letter.rows]
    assert {letter.device_id for letter in letters} == {device_id}
    assert {letter.company_id for letter in letters} == {world.companies["A"]}
    refused = [row for row in rows if row.get("node_id") == "ns=2;s=DoesNotExist"]
    assert refused and refused[0]["reason"] == "cannot monitor: BadNodeIdUnknown"
    assert not any(row.get("node_id") == "ns=2;s=Label" for row in rows)  # never subscribed
    assert worker.stats.stored >= 6


async def test_sources_follow_the_registry(ctx: Context, world: World, tmp_path: Path) -> None:
    """A new OPC UA device gets a source once the worker hears of the change; a disabled one
    loses it. (No server needed: a source of an unreachable endpoint keeps retrying.)"""
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    worker = OpcUaIngest(ctx.db, store, source_options={"backoff_initial": 0.05})
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        assert worker.sources == {}
        endpoint = f"opc.tcp://127.0.0.1:{free_port()}/later/"
        device_id, _ = _opcua_device(ctx, world, endpoint)
        worker.invalidate()  # what a registry.* event does in `sandan ingest opcua`
        await _until(lambda: list(worker.sources) == [endpoint])
        system = Principal.system("test")
        with ctx.db.unit(system) as s:
            registry.update_device(s, system, device_id, schemas.DevicePatch(enabled=False))
        worker.invalidate()
        await _until(lambda: worker.sources == {})
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
        store.close()


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return _samples(answer.read().decode())


async def test_the_opcua_worker_command_stores_and_stops_cleanly(
    settings: Settings, ctx: Context, world: World
) -> None:
    """`sandan ingest opcua` as its own process reads the registry's endpoint, stores what the
    server sends, counts it on --metrics-port and exits on SIGTERM with its counts."""
    port, metrics_port = free_port(), free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/sandan/"
    _, tags = _opcua_device(ctx, world, endpoint)
    machine = await _start_machine(port)
    env = {**os.environ, "SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from sandan.cli import main; main()",
        "ingest",
        "opcua",
        "--metrics-port",
        str(metrics_port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        lines = [await asyncio.wait_for(process.stdout.readline(), 30)]
        while b"OPC UA ingest worker" not in lines[-1]:
            assert len(lines) < 20 and lines[-1], lines
            lines.append(await asyncio.wait_for(process.stdout.readline(), 30))
        assert b"1 endpoint(s)" in lines[-1]
        await asyncio.sleep(1.5)  # connected and subscribed
        await machine.temp.write_value(77.5)
        stored = 0.0
        for _ in range(40):  # the worker's own /metrics counts what it stored
            await asyncio.sleep(0.25)
            page = await asyncio.to_thread(_scrape, metrics_port)
            stored = _get(page, "sandan_telemetry_readings_total", source="opcua", outcome="stored")
            if stored:
                break
        assert stored >= 1
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await machine.server.stop()
    assert process.returncode == 0, out
    assert b"stopped: " in out and b"readings stored" in out, out
    store = DuckDBStore(settings.resolved_telemetry_path())
    try:
        assert _latest(store, tags["temperature"]) == (77.5, GOOD)
        assert _latest(store, tags["Count"]) == (7.0, GOOD)
    finally:
        store.close()
