"""`sandan simulate` publishing real protocol traffic: JSON and Sparkplug B over the local
Mosquitto (read back by a subscriber here and by the real ingest), OPC UA read by an asyncua
client, HTTP into a running server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import httpx
import orjson
import pytest
from asyncua import Client

from conftest import World, free_port, need_service
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.registry import service as registry
from sandan.settings import Settings
from sandan.simulator.run import SimulateConfig, Simulation, SimulationError
from sandan.simulator.scale import seed_registry
from sandan.simulator.sparkplug_edge import SparkplugPublisher
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MessageIngestor, parse_topic
from sandan.telemetry.sparkplug.codec import (
    BD_SEQ,
    REBIRTH,
    DecodedPayload,
    decode,
    encode_rebirth_command,
)
from sandan.telemetry.sparkplug.worker import SparkplugIngest

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
HOST, PORT = urlsplit(URL).hostname or "127.0.0.1", urlsplit(URL).port or 1883


async def _until(check: Callable[[], bool], timeout: float = 20.0, about: object = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out {about}"
        await asyncio.sleep(0.02)


async def _broker_up() -> None:
    try:
        async with aiomqtt.Client(HOST, PORT):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")


@contextlib.asynccontextmanager
async def _subscriber(*filters: str) -> AsyncIterator[list[tuple[str, bytes]]]:
    """Everything published on `filters` while inside, in arrival order."""
    await _broker_up()
    received: list[tuple[str, bytes]] = []
    async with aiomqtt.Client(HOST, PORT) as client:
        for topic_filter in filters:
            await client.subscribe(topic_filter, qos=1)

        async def collect() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                received.append((str(message.topic), message.payload))

        task = asyncio.create_task(collect())
        try:
            yield received
        finally:
            await asyncio.sleep(0.3)  # what is in flight arrives
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _tags_by_device(ctx: Context) -> dict[tuple[int, int], dict[str, str]]:
    """(company id, device id) -> tag name -> data type, of every numeric tag."""
    out: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    with ctx.db.unit() as s:
        for _tag, device, company, name, _lo, _hi, data_type in registry.ingest_tag_rows(s):
            if data_type != "str":
                out[(company, device)][name] = data_type
    return out


async def _sandan(settings: Settings, *args: str) -> tuple[int, str]:
    env = {**os.environ, "NO_COLOR": "1"}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("sandan")),
        *args,
        "--data-dir",
        str(settings.data_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode or 0, out.decode()


async def test_json_over_mqtt_from_the_cli(
    settings: Settings, ctx: Context, tmp_path: Path
) -> None:
    """Seed two factories, publish for 2 s at QoS 1; every device's messages have the JSON
    ingest topic and shape, and the real ingest stores every value of them."""
    async with _subscriber("sandan/v1/+/+/data") as received:
        code, out = await _sandan(
            settings,
            "simulate",
            "--seed-registry",
            "--factories", "2",
            "--duration", "2",
            "--rate", "0.5",
            "--qos", "1",  # more messages a step than Mosquitto's window of 20
            "--mqtt-url", URL,
        )  # fmt: skip
    assert code == 0, out
    summary = re.search(r"stopped after (\d+) steps", out)
    assert summary is not None, out
    steps = int(summary.group(1))
    assert steps >= 2 and "0 errors" in out
    devices = _tags_by_device(ctx)
    assert len(devices) > 10
    ours = [  # the broker is shared: keep the messages of this registry's devices
        (topic, payload)
        for topic, payload in received
        if (key := parse_topic(topic)) in devices
        and set(orjson.loads(payload).get("values", {})) == set(devices[key])
    ]
    per_device = Counter(parse_topic(topic) for topic, _ in ours)
    assert set(per_device) == set(devices)
    assert set(per_device.values()) == {steps}  # one message per device and step
    now_ms = datetime.now(UTC).timestamp() * 1000
    for topic, payload in ours:
        body = orjson.loads(payload)
        assert set(body) == {"ts", "values"} and now_ms - 60_000 < body["ts"] <= now_ms
        key = parse_topic(topic)
        assert key is not None
        kinds = devices[key]
        for name, value in body["values"].items():
            expected = {"int": int, "bool": bool, "float": float}[kinds[name]]
            assert type(value) is expected, (name, value)
    store = DuckDBStore(tmp_path / "check.duckdb")
    ingestor = MessageIngestor(ctx.db, store)
    ingestor.ingest([(topic, payload, now_ms) for topic, payload in ours])
    store.close()
    assert ingestor.stats.rejected == 0, ingestor.stats.per_reason
    assert ingestor.stats.stored == sum(len(devices[k]) for k in devices) * steps


def _node_streams(
    received: list[tuple[str, bytes]], groups: set[str]
) -> dict[tuple[str, str], list[tuple[str, str | None, DecodedPayload]]]:
    """Per edge node: (message type, device, decoded payload) in arrival order."""
    streams: dict[tuple[str, str], list[tuple[str, str | None, DecodedPayload]]]
    streams = defaultdict(list)
    for topic, payload in received:
        parts = topic.split("/")
        if parts[1] in groups and parts[2] != "NCMD":
            device = parts[4] if len(parts) == 5 else None
            streams[(parts[1], parts[3])].append((parts[2], device, decode(payload)))
    return streams


async def test_sparkplug_edge_nodes_birth_data_rebirth_and_death(ctx: Context) -> None:
    assert seed_registry(ctx.db, "sparkplug", 2)
    with ctx.db.unit() as s:
        rows = registry.protocol_tag_rows(s, "sparkplug")
    registered: dict[str, set[str]] = defaultdict(set)
    for _device, _company, external_id, _tag, name, _address, data_type in rows:
        if name is not None and data_type != "str":
            registered[external_id].add(name)
    groups = {external_id.split("/")[0] for external_id in registered}
    sim = Simulation(ctx.db, SimulateConfig(protocol="sparkplug", mqtt_url=URL, rate=0.2))
    stop = asyncio.Event()
    async with _subscriber(*(f"spBv1.0/{g}/#" for g in groups)) as received:
        try:
            await sim.prepare()
            publisher = sim.publisher
            assert isinstance(publisher, SparkplugPublisher)
            run = asyncio.create_task(sim.run(stop))
            ddata = len(registered) * 2
            await _until(lambda: sum("/DDATA/" in t for t, _ in received) >= ddata)
            node = next(iter(publisher.nodes.values()))
            async with aiomqtt.Client(HOST, PORT) as host:  # a host asks for a rebirth
                ncmd = f"spBv1.0/{node.group}/NCMD/{node.node}"
                await host.publish(ncmd, encode_rebirth_command(), qos=1)
            await _until(lambda: node.rebirths == 1)
            node.abort()  # a crash: the broker sends the NDEATH will, the node reconnects
            await _until(lambda: node.bd_seq == 1 and node.connected.is_set())
            await asyncio.sleep(0.5)
            stop.set()
            await run
        finally:
            await sim.close()
    streams = _node_streams(received, groups)
    assert set(streams) == set(publisher.nodes)
    aliases: dict[tuple[str, str, str], set[int]] = {}
    for (group, edge), stream in streams.items():
        births = [p for kind, _, p in stream if kind == "NBIRTH"]
        deaths = [p for kind, _, p in stream if kind == "NDEATH"]
        is_node = (group, edge) == (node.group, node.node)
        # births: the first session, the rebirth (same bdSeq), the session after the crash
        assert [b.value_of(BD_SEQ) for b in births] == ([0, 0, 1] if is_node else [0])
        assert all(b.seq == 0 and b.value_of(REBIRTH) == 0.0 for b in births)
        # deaths: the will after the crash (session 0), then the clean NDEATH at stop
        assert [d.value_of(BD_SEQ) for d in deaths] == ([0, 1] if is_node else [0])
        assert all(d.seq is None for d in deaths)
        expected_seq = 0
        for kind, device, payload in stream:
            if kind == "NDEATH":
                continue
            if kind == "NBIRTH":
                expected_seq = 0
            assert payload.seq == expected_seq, (group, edge, kind)
            expected_seq = (expected_seq + 1) % 256
            key = (group, edge, str(device))
            if kind == "DBIRTH":
                names = set(payload.names)
                assert names == registered[f"{group}/{edge}/{device}"]
                assert (payload.aliases >= 1).all()
                assert (payload.datatypes > 0).all()
                aliases[key] = set(payload.aliases.tolist())
            elif kind == "DDATA":
                assert set(payload.names) == {None}
                assert set(payload.aliases.tolist()) == aliases[key]
    born = {k for k in aliases}
    assert {f"{g}/{e}/{d}" for g, e, d in born} == set(registered)


async def test_sparkplug_ingest_accepts_every_simulated_device(
    ctx: Context, tmp_path: Path
) -> None:
    assert seed_registry(ctx.db, "sparkplug", 2)
    with ctx.db.unit() as s:
        rows = registry.protocol_tag_rows(s, "sparkplug")
    tags = {int(row[3]) for row in rows if row[3] is not None and row[6] != "str"}
    groups = sorted({row[2].split("/")[0] for row in rows})
    await _broker_up()
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    worker = SparkplugIngest(ctx.db, store, URL, host_id=f"sim-{uuid.uuid4().hex[:8]}",
                             groups=groups, flush_ms=30)  # fmt: skip
    task = asyncio.create_task(worker.run())
    sim = Simulation(
        ctx.db, SimulateConfig(protocol="sparkplug", mqtt_url=URL, rate=0.25, duration=1.5)
    )
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        await sim.prepare()
        report = await sim.run(asyncio.Event())
        assert sim.publisher is not None
        sent = sim.publisher.stats.readings + len(tags)  # DDATA and the DBIRTH values
        await _until(lambda: worker.stats.stored >= sent, about=(worker.stats, sent))
    finally:
        await sim.close()
        await worker.stop()
        await asyncio.wait_for(task, 10)
    assert report.steps >= 3
    assert worker.stats.rejected == 0 and worker.stats.rebirths_requested == 0
    assert worker.stats.stored == sent
    assert {r["tag_id"] for r in store.latest(sorted(tags)).to_pylist()} == tags
    store.close()


def seeded_opcua_machine(ctx: Context) -> tuple[int, str, list[Any]]:
    """A registry seeded with one factory whose first machine is an OPC UA server on a free
    port: (device id, endpoint, the device's `protocol_tag_rows`)."""
    port = free_port()
    assert seed_registry(ctx.db, "json", 1, opcua=1, opcua_port=port)
    with ctx.db.unit() as s:
        rows = list(registry.protocol_tag_rows(s, "opcua"))
    (device_id,) = {r[0] for r in rows}
    assert rows[0][2] == f"opc.tcp://127.0.0.1:{port}/sandan/"
    return device_id, rows[0][2], rows


async def test_opcua_machine_serves_its_registered_nodes(ctx: Context) -> None:
    device_id, endpoint, rows = seeded_opcua_machine(ctx)
    nodes = {r[4]: (r[5], r[6]) for r in rows if r[6] != "str"}
    config = SimulateConfig(opcua=1, rate=0.2, devices=frozenset({device_id}))
    sim = Simulation(ctx.db, config)
    stop = asyncio.Event()
    try:
        await sim.prepare()
        assert sim.publisher is None and sim.report.served == 1  # nothing left for MQTT
        run = asyncio.create_task(sim.run(stop))
        async with Client(endpoint, timeout=10) as client:

            async def read() -> dict[str, tuple[object, datetime]]:
                out = {}
                for name, (address, _type) in nodes.items():
                    value = await client.get_node(address).read_data_value()
                    assert value.SourceTimestamp is not None
                    out[name] = (value.Value.Value, value.SourceTimestamp)  # type: ignore[union-attr]
                return out

            first = await read()
            await asyncio.sleep(0.6)
            second = await read()
        stop.set()
        await run
    finally:
        await sim.close()
    assert set(first) == set(nodes) and nodes
    for name, (value, stamp) in second.items():
        data_type = nodes[name][1]
        expected = {"int": int, "bool": bool, "float": float}[data_type or "float"]
        assert type(value) is expected, (name, value)
        assert stamp > first[name][1]  # written again by later steps
        assert abs(stamp.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(seconds=30)
    if "state" in second:
        assert second["state"][0] in range(5)


async def _http_run(
    ctx: Context, api: str, token: str, devices: set[int] | None = None
) -> Simulation:
    config = SimulateConfig(
        protocol="http",
        api_url=api,
        token=token,
        rate=0.2,
        duration=1.0,
        devices=frozenset(devices) if devices else None,
    )
    sim = Simulation(ctx.db, config)
    try:
        await sim.prepare()
        await sim.run(asyncio.Event())
    finally:
        await sim.close()
    return sim


async def test_http_posts_each_device_with_a_token(ctx: Context, world: World, api: str) -> None:
    sim = await _http_run(ctx, api, world.tokens["operator"])
    assert sim.publisher is not None
    stats = sim.publisher.stats
    assert stats.errors == 0 and stats.messages == 2 * sim.report.steps  # two devices
    headers = world.headers("operator")
    async with httpx.AsyncClient(base_url=api, headers=headers) as client:
        params = [("tag_id", world.tags["A"]), ("tag_id", world.tags["B"])]
        latest = (await client.get("/api/v1/telemetry/latest", params=params)).json()
    assert {r["tag_id"] for r in latest} == {world.tags["A"], world.tags["B"]}
    assert all(0 <= r["value"] <= 12000 for r in latest)

    with ctx.db.unit() as s:  # a device key speaks for its own device only
        _, key = identity.issue_device_secret(
            s, device_id=world.devices["A"], company_id=world.companies["A"], name="A-gw"
        )
    own = await _http_run(ctx, api, key, {world.devices["A"]})
    assert own.publisher is not None and own.publisher.stats.errors == 0
    both = await _http_run(ctx, api, key)
    assert both.publisher is not None
    assert both.publisher.stats.messages == both.report.steps  # device A's
    assert both.publisher.stats.errors == both.report.steps  # device B's, refused
    assert f"device {world.devices['B']}: HTTP 403" in both.publisher.stats.last_error

    with pytest.raises(SimulationError, match="every message was refused"):
        await _http_run(ctx, api, "sdt_nothing_wrong")
