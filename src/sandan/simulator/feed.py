"""Feed a running platform from the simulator: in-process (the demo) or over MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from sandan.core.bus import Event, EventBus
from sandan.core.db import Database
from sandan.registry import service as registry
from sandan.simulator.machines import ComplexSimulator, TagRow
from sandan.telemetry.mqtt import MessageIngestor
from sandan.telemetry.store import TelemetryStore

log = structlog.get_logger(__name__)


def load_simulator(db: Database, seed: int = 7) -> ComplexSimulator | None:
    """A simulator over every numeric tag of every enabled device, or None when there are none."""
    with db.unit() as session:
        rows = [TagRow(*r) for r in registry.ingest_tag_rows(session) if r[6] != "str"]
    return ComplexSimulator(rows, seed=seed) if rows else None


def backfill(
    db: Database,
    store: TelemetryStore,
    history: timedelta,
    progress: Callable[[int], None] | None = None,
    step: float = 10.0,
) -> int:
    """Write `history` of simulated readings (10-second steps) ending now, through the same
    ingest path as live data; returns the readings stored. The demo runs it before serving, so
    charts and OEE have data the moment the first page opens."""
    simulator = load_simulator(db)
    if simulator is None:
        return 0
    ingestor = MessageIngestor(db, store, source="simulator")
    now = datetime.now(UTC)
    at = now - history
    while at < now:
        ingestor.ingest(simulator.messages(at, step))
        at += timedelta(seconds=step)
        if progress is not None:
            progress(1)
    return ingestor.stats.stored


def backfill_steps(history: timedelta, step: float = 10.0) -> int:
    """How many steps `backfill` takes (for its progress bar)."""
    return math.ceil(history.total_seconds() / step)


async def feed_in_process(
    db: Database,
    store: TelemetryStore,
    *,
    interval: float = 1.0,
    stop: asyncio.Event | None = None,
    bus: EventBus | None = None,
) -> None:
    """Run the simulator inside this process, through the same ingest path as MQTT messages:
    one message per device every `interval` seconds until `stop` is set. With a bus, a
    `simulator.inject` event ({tag_id, value, seconds}) holds a tag at a value (a drill)."""
    simulator = await asyncio.to_thread(load_simulator, db)
    if simulator is None:
        return
    if bus is not None:

        async def inject(event: Event) -> None:
            p = event.payload
            simulator.inject(int(p["tag_id"]), float(p["value"]), float(p["seconds"]), time.time())

        bus.subscribe("simulator.inject", inject)
    latest = store.latest(simulator.tag_ids.tolist()).to_pylist()
    simulator.resume({row["tag_id"]: row["value"] for row in latest})
    ingestor = MessageIngestor(db, store, source="simulator")
    log.info("simulator.started", devices=len(simulator.devices), resumed=len(latest))
    stop = stop or asyncio.Event()
    while not stop.is_set():
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(ingestor.ingest, simulator.messages(datetime.now(UTC), interval))
        elapsed = asyncio.get_running_loop().time() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.05, interval - elapsed))
