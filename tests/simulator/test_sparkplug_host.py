"""Simulated Sparkplug B edge nodes and Sandan's own host application (the Sparkplug ingest
worker) on the local Mosquitto: the nodes birth only once the primary host's STATE says
online, end their session when it goes offline and birth again (new bdSeq) when it is back;
a DCMD writes a machine's metric, which the next DDATA carries and the host stores."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiomqtt
import orjson
from test_simulate_cli import HOST, PORT, URL, _sandan, _subscriber, _until

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.settings import Settings
from sandan.simulator.run import SimulateConfig, Simulation
from sandan.simulator.scale import seed_registry
from sandan.simulator.sparkplug_edge import NEXT_SERVER, EdgeNode, SparkplugPublisher
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    BD_SEQ,
    DataType,
    Metric,
    decode,
    encode_payload,
    now_ms,
)
from sandan.telemetry.sparkplug.worker import SparkplugIngest


async def _clear_retained(topic: str) -> None:
    async with aiomqtt.Client(HOST, PORT) as client:
        await client.publish(topic, b"", qos=1, retain=True)


def _seed(ctx: Context) -> list[str]:
    """One seeded Sparkplug factory whose group ids are this test's own (seeding makes the
    same ids in every test registry, and the broker is shared); returns the group ids."""
    assert seed_registry(ctx.db, "sparkplug", 1)
    suffix = uuid.uuid4().hex[:8]
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        devices = {row[0]: row[2] for row in registry.protocol_tag_rows(s, "sparkplug")}
        for device_id, external_id in devices.items():
            group, rest = external_id.split("/", 1)
            patch = schemas.DevicePatch(external_id=f"{group}-{suffix}/{rest}")
            registry.update_device(s, system, device_id, patch)
        rows = registry.protocol_tag_rows(s, "sparkplug")
    return sorted({row[2].split("/")[0] for row in rows})


def _kinds(received: list[tuple[str, bytes]], node: EdgeNode) -> list[tuple[str, bytes]]:
    """(message type, payload) of one edge node's own messages, in arrival order, and the
    STATE messages between them."""
    out = []
    for topic, payload in received:
        parts = topic.split("/")
        if parts[1] == topics.STATE:
            if payload:  # not the clearing of the retained STATE at the end
                out.append(("STATE", payload))
        elif parts[1] == node.group and parts[3] == node.node:
            out.append((parts[2], payload))
    return out


class _Host:
    """Sandan's Sparkplug host application (the ingest worker) started and stopped."""

    def __init__(self, ctx: Context, store: DuckDBStore, host_id: str, groups: list[str]) -> None:
        self.worker = SparkplugIngest(ctx.db, store, URL, host_id=host_id, groups=groups,
                                      flush_ms=30)  # fmt: skip
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SparkplugIngest:
        self.task = asyncio.create_task(self.worker.run())
        await asyncio.wait_for(self.worker.ready.wait(), 10)
        return self.worker

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


async def test_edge_nodes_wait_for_the_primary_host_and_birth_again_after_it_returns(
    ctx: Context, tmp_path: Path
) -> None:
    groups, host_id = _seed(ctx), f"sim-host-{uuid.uuid4().hex[:8]}"
    state = topics.state_topic(host_id)
    config = SimulateConfig(protocol="sparkplug", mqtt_url=URL, rate=0.2, primary_host=host_id)
    sim = Simulation(ctx.db, config)
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    stop = asyncio.Event()
    async with _subscriber(state, *(f"spBv1.0/{g}/#" for g in groups)) as received:
        try:
            await sim.prepare()
            publisher = sim.publisher
            assert isinstance(publisher, SparkplugPublisher)
            nodes = list(publisher.nodes.values())
            run = asyncio.create_task(sim.run(stop))
            # connected and subscribed to the host's STATE, stepping, but not born
            await _until(lambda: all(n.session.is_set() for n in nodes) and sim.report.steps >= 5)
            assert publisher.waiting() == len(nodes)
            assert not [t for t, _ in received if t.startswith("spBv1.0/") and "/STATE/" not in t]
            assert publisher.stats.messages == 0

            sent = publisher.stats
            async with _Host(ctx, store, host_id, groups) as host:
                await _until(lambda: all(n.connected.is_set() for n in nodes))
                await _until(lambda: host.stats.stored > 0 and sent.messages >= 2 * len(nodes))
            # the host's STATE offline: every node ends its session and waits in a new one
            await _until(lambda: all(n.sessions_ended == 1 and n.session.is_set() for n in nodes))
            stepped = sim.report.steps
            await _until(lambda: sim.report.steps >= stepped + 5)
            assert not any(n.connected.is_set() for n in nodes)
            offline = sent.messages
            async with _Host(ctx, store, host_id, groups) as host:
                await _until(lambda: all(n.connected.is_set() for n in nodes))
                await _until(lambda: host.stats.stored > 0 and sent.messages > offline + len(nodes))
            stop.set()
            await run
        finally:
            await sim.close()
            await _clear_retained(state)
    store.close()
    for node in nodes:
        stream = _kinds(received, node)
        kinds = [k for k, _ in stream]
        states = [orjson.loads(p)["online"] for k, p in stream if k == "STATE"]
        assert states[:3] == [True, False, True]
        # nothing before the host's first STATE online; NBIRTH only after each online STATE
        first_online = kinds.index("STATE")
        assert "NBIRTH" not in kinds[:first_online] and "DDATA" not in kinds[:first_online]
        births = [i for i, k in enumerate(kinds) if k == "NBIRTH"]
        deaths = [i for i, k in enumerate(kinds) if k == "NDEATH"]
        assert len(births) == 2 and first_online < births[0]
        offline = [i for i, (k, p) in enumerate(stream)
                   if k == "STATE" and not orjson.loads(p)["online"]]  # fmt: skip
        # the host went offline: NDEATH of session 0, no data until the birth of session 1
        assert offline[0] < deaths[0] < births[1]
        assert "DDATA" not in kinds[deaths[0] : births[1]]
        assert "DDATA" in kinds[births[0] : deaths[0]] and "DDATA" in kinds[births[1] :]
        bd_seqs = [decode(p).value_of(BD_SEQ) for k, p in stream if k in ("NBIRTH", "NDEATH")]
        assert bd_seqs[:3] == [0, 0, 1]  # born 0, died 0 (host offline), born 1
        # seq starts at 0 with each NBIRTH and grows by one per message
        expected = 0
        for kind, payload in stream:
            if kind in ("STATE", "NDEATH"):
                continue
            if kind == "NBIRTH":
                expected = 0
            assert decode(payload).seq == expected, kind
            expected = (expected + 1) % 256


def _state_and_speed(ctx: Context) -> tuple[str, int, int, int, str]:
    """A Sparkplug machine with a `state` tag and a float tag: (external id, device id, state
    tag id, float tag id, float tag name)."""
    with ctx.db.unit() as s:
        rows = registry.protocol_tag_rows(s, "sparkplug")
    by_device: dict[int, dict[str, tuple[int, str]]] = {}
    external: dict[int, str] = {}
    for device_id, _company, external_id, tag_id, name, _address, data_type in rows:
        if tag_id is not None and name is not None:
            by_device.setdefault(device_id, {})[name] = (tag_id, data_type or "")
            external[device_id] = external_id
    for device_id, tags in sorted(by_device.items()):
        floats = [n for n, (_, t) in tags.items() if t == "float" and n != "power"]
        if "state" in tags and floats:
            name = floats[0]
            return external[device_id], device_id, tags["state"][0], tags[name][0], name
    raise AssertionError("no machine with a state and a float tag")


async def test_a_dcmd_sets_the_machine_value_the_next_ddata_carries_and_the_host_stores(
    settings: Settings, ctx: Context, tmp_path: Path
) -> None:
    groups, host_id = _seed(ctx), f"sim-host-{uuid.uuid4().hex[:8]}"
    external_id, device_id, state_tag, speed_tag, speed = _state_and_speed(ctx)
    group, edge, device = external_id.split("/")
    config = SimulateConfig(protocol="sparkplug", mqtt_url=URL, rate=0.2, primary_host=host_id)
    sim = Simulation(ctx.db, config)
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    stop = asyncio.Event()

    def latest(tag_id: int) -> float | None:
        rows = store.latest([tag_id]).to_pylist()
        return rows[0]["value"] if rows else None

    ddata = f"spBv1.0/{group}/DDATA/{edge}/{device}"
    async with _subscriber(ddata, f"spBv1.0/{group}/DBIRTH/{edge}/{device}") as received:
        try:
            await sim.prepare()
            publisher = sim.publisher
            assert isinstance(publisher, SparkplugPublisher)
            node = publisher.nodes[(group, edge)]
            run = asyncio.create_task(sim.run(stop))
            async with _Host(ctx, store, host_id, groups):
                await _until(lambda: latest(state_tag) is not None and any(
                    topic == ddata for topic, _ in received))  # fmt: skip
                assert latest(state_tag) != 0  # nothing moves a machine to a planned stop
                aliases = {  # the DBIRTH's name -> alias
                    n: int(a)
                    for topic, p in received
                    if "/DBIRTH/" in topic
                    for n, a in zip(decode(p).names, decode(p).aliases, strict=True)
                }
                command = encode_payload(
                    [
                        Metric(alias=aliases["state"], value=0, datatype=DataType.Int32),
                        Metric(speed, 3.25, DataType.Double),  # by name
                        Metric("no_such_metric", 1.0, DataType.Double),
                    ],
                    seq=None,
                )
                sent_ms = now_ms()
                async with aiomqtt.Client(HOST, PORT) as client:
                    await client.publish(f"spBv1.0/{group}/DCMD/{edge}/{device}", command)
                await _until(lambda: node.commands == 2 and node.ignored == 1)
                applied_ms = now_ms()
                await _until(lambda: latest(state_tag) == 0 and latest(speed_tag) == 3.25,
                             about=(latest(state_tag), latest(speed_tag)))  # fmt: skip
                seen = sum(topic == ddata for topic, _ in received)
                await _until(lambda: sum(topic == ddata for topic, _ in received) >= seen + 4)
                # the state is held: a planned stop stays stopped
                assert latest(state_tag) == 0 and latest(speed_tag) == 3.25
                # NCMD Next Server: a new session (bdSeq 1) on the only broker, born at once
                # since the host is online
                next_server = encode_payload(
                    [Metric(NEXT_SERVER, True, DataType.Boolean)], seq=None
                )
                async with aiomqtt.Client(HOST, PORT) as client:
                    await client.publish(f"spBv1.0/{group}/NCMD/{edge}", next_server)
                await _until(lambda: node.sessions_ended == 1 and node.bd_seq == 1
                             and node.connected.is_set())  # fmt: skip
                # Sandan's side: `sandan sparkplug dcmd` writes by tag name, audited
                cli_ms = now_ms()
                code, out = await _sandan(settings, "sparkplug", "dcmd", str(device_id),
                                          f"{speed}=4.5", "--mqtt-url", URL)  # fmt: skip
                assert code == 0 and f"DCMD to spBv1.0/{group}/DCMD/{edge}/{device}" in out, out
                await _until(lambda: latest(speed_tag) == 4.5)
                assert node.commands == 3
            stop.set()
            await run
        finally:
            await sim.close()
            await _clear_retained(topics.state_topic(host_id))
    store.close()
    by_alias = {a: n for n, a in aliases.items()}
    stamped = []
    for d in (decode(p) for topic, p in received if topic == ddata):
        values = zip(d.aliases.tolist(), d.values.tolist(), strict=True)
        stamped.append((d.timestamp, {by_alias[a]: v for a, v in values}))
    before = [values for ts, values in stamped if ts < sent_ms]
    after = [values for ts, values in stamped if applied_ms < ts < cli_ms]
    assert before and all(values["state"] != 0 for values in before)
    # every DDATA of a step after the command was applied carries the written values
    assert len(after) >= 3
    assert all(values["state"] == 0 and values[speed] == 3.25 for values in after)
