"""`sandan simulate`: the registry's machines, stepped in time and published for real.

The simulated complex is the registry: every enabled device with numeric tags is a machine
(or an environment sensor box) of `ComplexSimulator`, so the ingest workers find every
device and tag they receive. Each step computes all tags at once (numpy), then
- the first `opcua` devices registered as OPC UA endpoints on 127.0.0.1 get the values
  written into their own asyncua server,
- every other device is published by the chosen protocol: JSON over MQTT and HTTP address
  devices by registry id (any device has one), Sparkplug B by the external id
  `<group>/<edge node>/<device>` (devices registered for Sparkplug only).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from sandan.core.db import Database
from sandan.core.mqtt import Broker
from sandan.registry import service as registry
from sandan.settings import Settings
from sandan.simulator import opcua_server
from sandan.simulator.machines import ComplexSimulator, TagRow
from sandan.simulator.opcua_server import ServedMachine, ServedTag, ServerSecurity
from sandan.simulator.publish import (
    HttpPublisher,
    JsonPublisher,
    Layout,
    PublishStats,
)
from sandan.simulator.sparkplug_edge import SparkplugPublisher, sparkplug_address
from sandan.telemetry.endpoints import opcua_node_id
from sandan.telemetry.factory import make_store
from sandan.telemetry.mqtt_wire import MqttWireError

PROTOCOLS = ("json", "sparkplug", "http")


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


class SimulationError(RuntimeError):
    """The simulation cannot start or go on (nothing to simulate, refused credentials)."""


class Publisher(Protocol):
    stats: PublishStats

    async def start(self, at_ms: int, values: NDArray[np.float64]) -> None: ...
    async def publish(self, at_ms: int, values: NDArray[np.float64]) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class SimulateConfig:
    protocol: str = "json"
    mqtt_url: str | Broker = "mqtt://127.0.0.1:1883"  # a Broker carries the TLS settings
    qos: int = 0  # JSON over MQTT; Sparkplug data is QoS 0 by the specification
    primary_host: str | None = None  # Sparkplug: birth only while this host is online
    api_url: str = "http://127.0.0.1:8000"
    token: str | None = None
    opcua: int = 0
    opcua_security: ServerSecurity | None = None  # the OPC UA servers secured
    rate: float = 1.0
    duration: float | None = None
    devices: frozenset[int] | None = None  # only these device ids
    seed: int = 7
    http_workers: int = 8


@dataclass
class Report:
    """What a run did so far (the CLI's progress line and summary)."""

    devices: int = 0  # published by the protocol
    tags: int = 0
    served: int = 0  # devices served over OPC UA
    skipped: int = 0  # devices the protocol cannot address
    steps: int = 0
    behind: int = 0  # steps that started late: the publisher could not keep the rate
    served_values: int = 0
    slowest: float = 0.0  # seconds the slowest step took (simulate and publish)
    notes: list[str] = field(default_factory=list)


@dataclass
class Fleet:
    """The registry's view the simulator needs: numeric tags by device, and addresses."""

    rows: list[TagRow]
    protocol: dict[int, str]  # device id -> protocol (only sparkplug and opcua devices)
    external_id: dict[int, str]
    source_address: dict[int, str]  # tag id -> source address (opcua devices)


def load_fleet(db: Database, only: frozenset[int] | None = None) -> Fleet:
    with db.unit() as session:
        rows = [TagRow(*r) for r in registry.ingest_tag_rows(session) if r[6] != "str"]
        special = [
            (protocol, row)
            for protocol in ("sparkplug", "opcua")
            for row in registry.protocol_tag_rows(session, protocol)
        ]
    if only is not None:
        rows = [r for r in rows if r.device_id in only]
    rows.sort(key=lambda r: (r.device_id, r.tag_id))
    fleet = Fleet(rows, {}, {}, {})
    for protocol, (device_id, _company, external_id, tag_id, _name, address, _type) in special:
        fleet.protocol[device_id] = protocol
        fleet.external_id[device_id] = external_id
        if tag_id is not None and address:
            fleet.source_address[tag_id] = address
    return fleet


def stored_latest(settings: Settings, tag_ids: list[int]) -> dict[int, float]:
    """The newest stored value of each tag, so states and counters carry on from an earlier
    run; nothing when the store is busy (an embedded DuckDB file held by a server)."""
    try:
        store = make_store(settings)
    except Exception:  # best effort: start from fresh values instead
        return {}
    try:
        return {r["tag_id"]: r["value"] for r in store.latest(tag_ids).to_pylist()}
    finally:
        store.close()


class Simulation:
    """Prepare (load, connect, serve), run steps until stopped, close."""

    def __init__(
        self,
        db: Database,
        config: SimulateConfig,
        latest: Callable[[list[int]], dict[int, float]] | None = None,
    ) -> None:
        if config.protocol not in PROTOCOLS:
            raise SimulationError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        if config.qos not in (0, 1):
            raise SimulationError("qos must be 0 or 1")
        if config.rate < 0.05:
            raise SimulationError("rate must be at least 0.05 s between steps")
        if config.protocol == "http" and not config.token:
            raise SimulationError("HTTP needs --token: an API token with telemetry:write")
        self.db, self.config, self.latest = db, config, latest
        self.report = Report()
        self.machines: list[ServedMachine] = []
        self.publisher: Publisher | None = None
        self.sim: ComplexSimulator | None = None
        self._last_ms = 0

    async def prepare(self, progress: Callable[[int], None] | None = None) -> None:
        """Load the registry, start the OPC UA servers (`progress` per server), connect."""
        config, report = self.config, self.report
        fleet = await asyncio.to_thread(load_fleet, self.db, config.devices)
        if not fleet.rows:
            raise SimulationError(
                "the registry has no enabled device with numeric tags: "
                "seed one with `sandan simulate --seed-registry`"
            )
        sim = self.sim = ComplexSimulator(fleet.rows, seed=config.seed)
        if self.latest is not None:
            sim.resume(await asyncio.to_thread(self.latest, sim.tag_ids.tolist()))
        layout = Layout.of(sim, [r.data_type for r in fleet.rows])
        self.machines = self._served(fleet, layout)
        served = {m.device_id for m in self.machines}
        rest = [i for i, d in enumerate(layout.device_ids) if d not in served]
        if config.protocol == "sparkplug":
            addressed = {
                i: fleet.external_id[layout.device_ids[i]]
                for i in rest
                if fleet.protocol.get(layout.device_ids[i]) == "sparkplug"
                and sparkplug_address(fleet.external_id[layout.device_ids[i]])
            }
            report.skipped = len(rest) - len(addressed)
            if report.skipped:
                report.notes.append(
                    f"{report.skipped} devices are not registered for Sparkplug "
                    "(protocol sparkplug, external id <group>/<edge node>/<device>): left out"
                )
            rest = sorted(addressed)
            publisher: Publisher = SparkplugPublisher(
                Broker.of(config.mqtt_url), layout, addressed,
                primary_host=config.primary_host, write=sim.write,
            )  # fmt: skip
            if config.primary_host is not None:
                report.notes.append(
                    f"edge nodes birth once the primary host {config.primary_host!r} is online "
                    f"(spBv1.0/STATE/{config.primary_host})"
                )
        elif config.protocol == "http":
            assert config.token is not None
            publisher = HttpPublisher(
                config.api_url, config.token, layout, rest, workers=config.http_workers
            )
        else:
            publisher = JsonPublisher(Broker.of(config.mqtt_url), layout, rest, config.qos)
        report.devices, report.served = len(rest), len(self.machines)
        report.tags = sum(int(layout.start[i + 1] - layout.start[i]) for i in rest)
        if not rest and not self.machines:
            raise SimulationError(f"no device to simulate over {config.protocol}")
        values = sim.step(config.rate)
        self._last_ms = _now_ms()
        try:
            await opcua_server.start_all(
                self.machines, values.tolist(), progress, config.opcua_security
            )
            if rest:
                self.publisher = publisher
                await publisher.start(self._last_ms, values)
        except (MqttWireError, OSError) as exc:
            raise SimulationError(f"cannot start: {exc}") from exc

    def _served(self, fleet: Fleet, layout: Layout) -> list[ServedMachine]:
        wanted = self.config.opcua
        index = {d: i for i, d in enumerate(layout.device_ids)}
        machines: list[ServedMachine] = []
        ports: set[tuple[str, int]] = set()
        for device_id in sorted(fleet.protocol):
            if len(machines) >= wanted:
                break
            endpoint = fleet.external_id[device_id]
            local = opcua_server.local_endpoint(endpoint)
            i = index.get(device_id)
            if fleet.protocol[device_id] != "opcua" or local is None or i is None:
                continue
            if local in ports:  # one server per port: the first device registered there
                continue
            ports.add(local)
            a, b = layout.span(i)
            tags = [
                ServedTag(
                    k,
                    layout.names[k],
                    opcua_node_id(layout.names[k], fleet.source_address.get(fleet.rows[k].tag_id)),
                    layout.data_types[k],
                )
                for k in range(a, b)
            ]
            machines.append(ServedMachine(device_id, endpoint, f"device-{device_id}", tags))
        if len(machines) < wanted:
            self.report.notes.append(
                f"--opcua {wanted}: only {len(machines)} OPC UA devices are registered at "
                "opc.tcp://127.0.0.1:<port> endpoints; serving those"
            )
        return machines

    async def run(
        self, stop: asyncio.Event, on_step: Callable[[Report], None] | None = None
    ) -> Report:
        """Step every `rate` seconds until `stop` is set or `duration` has passed."""
        assert self.sim is not None, "prepare() first"
        loop = asyncio.get_running_loop()
        rate, duration = self.config.rate, self.config.duration
        started = last = next_tick = loop.time()
        deadline = None if duration is None else started + duration
        while not stop.is_set():
            now = loop.time()
            if deadline is not None and now >= deadline:
                break
            values = self.sim.step(rate if self.report.steps == 0 else now - last)
            last = now
            at = datetime.now(UTC)
            await self._emit(at, values)
            self.report.steps += 1
            self.report.slowest = max(self.report.slowest, loop.time() - now)
            if on_step is not None:
                on_step(self.report)
            next_tick += rate
            wait = next_tick - loop.time()
            if wait < 0:
                self.report.behind += 1
                next_tick = loop.time()
                wait = 0.0
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
        return self.report

    async def _emit(self, at: datetime, values: NDArray[np.float64]) -> None:
        # every step a later millisecond than the last (and than the births' values)
        self._last_ms = max(int(at.timestamp() * 1000), self._last_ms + 1)
        if self.publisher is not None:
            await self.publisher.publish(self._last_ms, values)
            stats = self.publisher.stats
            if self.report.steps == 0 and stats.errors and not stats.messages:
                raise SimulationError(f"every message was refused: {stats.last_error}")
        if self.machines:
            plain = values.tolist()
            for machine in self.machines:
                self.report.served_values += await opcua_server.write_values(machine, plain, at)

    async def close(self) -> None:
        if self.publisher is not None:
            await self.publisher.stop()
        for machine in self.machines:
            await opcua_server.stop_machine(machine)
