"""Feed a running platform from the simulator: in-process (the demo) or over MQTT."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import structlog

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


async def feed_in_process(
    db: Database,
    store: TelemetryStore,
    *,
    interval: float = 1.0,
    backfill: timedelta = timedelta(minutes=20),
    stop: asyncio.Event | None = None,
) -> None:
    """Run the simulator inside this process, through the same ingest path as MQTT messages.

    It first backfills `backfill` of history (10-second steps) so charts and OEE have data at
    once, then sends one message per device every `interval` seconds until `stop` is set.
    """
    simulator = await asyncio.to_thread(load_simulator, db)
    if simulator is None:
        return
    ingestor = MessageIngestor(db, store, source="simulator")
    now = datetime.now(UTC)
    step = 10.0
    at = now - backfill
    while at < now:
        await asyncio.to_thread(ingestor.ingest, simulator.messages(at, step))
        at += timedelta(seconds=step)
    log.info("simulator.backfilled", devices=len(simulator.devices), stored=ingestor.stats.stored)
    stop = stop or asyncio.Event()
    while not stop.is_set():
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(ingestor.ingest, simulator.messages(datetime.now(UTC), interval))
        elapsed = asyncio.get_running_loop().time() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.05, interval - elapsed))
