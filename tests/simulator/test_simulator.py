"""The simulated complex: believable machines, and a feed that goes through real ingest."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import numpy as np

from conftest import World
from sandan.core.context import Context
from sandan.simulator.feed import backfill, feed_in_process
from sandan.simulator.machines import RUNNING, ComplexSimulator, TagRow
from sandan.telemetry.duckdb_store import DuckDBStore


def _rows() -> list[TagRow]:
    rows = []
    for device in range(1, 41):
        rows += [
            TagRow(device * 10 + 1, device, 1, "state", 0, 4, "int"),
            TagRow(device * 10 + 2, device, 1, "power", 0, 50, "float"),
            TagRow(device * 10 + 3, device, 1, "cycle_count", 0, None, "int"),
            TagRow(device * 10 + 4, device, 1, "defect_count", 0, None, "int"),
            TagRow(device * 10 + 5, device, 1, "spindle_speed", 0, 12000, "float"),
        ]
    return rows


def test_machines_behave() -> None:
    sim = ComplexSimulator(_rows(), seed=3)
    names = np.array(sim.names)
    previous = sim.step(1.0)
    states_seen: set[int] = set()
    for _ in range(600):  # ten minutes of one-second steps
        values = sim.step(1.0)
        counters = np.isin(names, ["cycle_count", "defect_count"])
        assert (values[counters] >= previous[counters]).all()  # counters never go back
        speed = values[names == "spindle_speed"]
        assert ((speed >= 0) & (speed <= 12000)).all()
        states_seen |= set(values[names == "state"].astype(int).tolist())
        previous = values
    assert RUNNING in states_seen and len(states_seen) >= 3  # machines change state
    defects, cycles = (
        previous[names == "defect_count"].sum(),
        previous[names == "cycle_count"].sum(),
    )
    assert 0 < defects < 0.05 * cycles  # about 2 % of output


async def test_feed_goes_through_ingest(ctx: Context, world: World, tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    stop = asyncio.Event()
    stored = await asyncio.to_thread(backfill, ctx.db, store, timedelta(minutes=2))
    assert stored == 2 * 12  # two tags, every 10 s for two minutes
    task = asyncio.create_task(feed_in_process(ctx.db, store, interval=0.2, stop=stop))
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert store.count() > stored  # live steps on top
    latest = store.latest([world.tags["A"], world.tags["B"]]).to_pylist()
    assert {r["tag_id"] for r in latest} == {world.tags["A"], world.tags["B"]}
    store.close()


def test_a_restarted_simulator_carries_on() -> None:
    """After a restart the machines keep their states and counters never go back."""
    first = ComplexSimulator(_rows(), seed=3)
    for _ in range(300):
        values = first.step(10.0)
    latest = dict(zip(first.tag_ids.tolist(), values.tolist(), strict=True))
    second = ComplexSimulator(_rows(), seed=99)
    second.resume(latest)
    assert (second.state == first.state).all()
    after = second.step(1.0)
    names = np.array(second.names)
    counters = np.isin(names, ["cycle_count", "defect_count"])
    assert (after[counters] >= values[counters]).all()
