"""`sandan simulate --replay`: a raw Parquet export published again over MQTT JSON (the CLI,
into a fresh store through the real MQTT ingest worker) and a CSV of device and tag names
over HTTP (into a running server), the same values in the same order and spacing / speed,
shifted to now."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_simulate_cli import _sandan

from conftest import World, own_mosquitto
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.simulator.feed import backfill
from sandan.simulator.publish import HttpPublisher
from sandan.simulator.replay import Replay, ReplayError, layout_of, read_recording
from sandan.simulator.run import load_fleet
from sandan.simulator.scale import seed_registry
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MqttIngest

SPEED = 30.0


def _by_tag(table: pa.Table) -> dict[int, list[tuple[datetime, float, int]]]:
    out: dict[int, list[tuple[datetime, float, int]]] = {}
    for row in table.sort_by([("tag_id", "ascending"), ("ts", "ascending")]).to_pylist():
        out.setdefault(row["tag_id"], []).append((row["ts"], row["value"], row["quality"]))
    return out


def _ms(delta: timedelta) -> float:
    return delta / timedelta(milliseconds=1)


def _now_ms() -> datetime:
    """Now as naive UTC, to the millisecond (the replay stamps whole milliseconds)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """The JSON topics carry registry ids, which every seeded test registry shares: a
    Mosquitto of this test's own keeps other runs' simulators out of the fresh store."""
    for port in own_mosquitto(tmp_path):
        yield f"mqtt://127.0.0.1:{port}"


async def test_a_parquet_export_replayed_over_mqtt_recreates_the_readings(
    settings: Settings, ctx: Context, tmp_path: Path, broker: str
) -> None:
    assert seed_registry(ctx.db, "json", 1)
    tag_ids = [row.tag_id for row in load_fleet(ctx.db).rows]
    recorded = DuckDBStore(tmp_path / "recorded.duckdb")  # three minutes of a factory
    assert backfill(ctx.db, recorded, timedelta(minutes=3), step=10.0) > 0
    export = tmp_path / "export.parquet"
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = recorded.export_parquet(export, tag_ids, now - timedelta(hours=1), now, "raw")
    recorded.close()
    original = _by_tag(pq.read_table(export))
    assert rows == sum(map(len, original.values())) and len(original) == len(tag_ids)

    fresh = DuckDBStore(tmp_path / "fresh.duckdb")
    worker = MqttIngest(ctx.db, fresh, broker, group=None, flush_ms=50)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        started = _now_ms()
        code, out = await _sandan(settings, "simulate", "--replay", str(export), "--speed",
                                  str(SPEED), "--qos", "1", "--mqtt-url", broker)  # fmt: skip
        assert code == 0, out
        assert f"Replaying {rows} readings of {len(tag_ids)} tags over json" in out
        assert f"replayed {rows} readings" in out and "0 errors" in out, out
        deadline = asyncio.get_running_loop().time() + 30
        while fresh.count() < rows:
            assert asyncio.get_running_loop().time() < deadline, (fresh.count(), rows)
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
    replayed = _by_tag(fresh.raw(tag_ids, started - timedelta(minutes=1),
                                 datetime.now(UTC).replace(tzinfo=None), limit=10**6))  # fmt: skip
    fresh.close()
    assert worker.stats.rejected == 0
    assert replayed.keys() == original.keys()
    first = min(ts for series in original.values() for ts, _, _ in series)
    sent = min(ts for series in replayed.values() for ts, _, _ in series)
    assert sent >= started  # shifted to now
    for tag_id, series in original.items():
        again = replayed[tag_id]
        # the same values (and so the same quality) in the same order
        assert [(v, q) for _, v, q in again] == [(v, q) for _, v, q in series], tag_id
        for (ts, _, _), (ts_again, _, _) in zip(series, again, strict=True):
            # the recorded spacing, divided by the speed (sent in whole milliseconds)
            assert abs(_ms(ts_again - sent) - _ms(ts - first) / SPEED) <= 2.0


async def test_a_csv_of_device_and_tag_names_replayed_over_http(
    ctx: Context,
    world: World,
    api: str,
    tmp_path: Path,
) -> None:
    a, b = world.devices["A"], world.devices["B"]
    start = datetime(2026, 1, 5, 8, 0, 0)
    lines = ["device_id,tag,ts,value"]
    expected: dict[int, list[float]] = {world.tags["A"]: [], world.tags["B"]: []}
    for k in range(20):
        at = start + timedelta(seconds=k)
        stamp = at.isoformat() if k % 2 else str(int(at.replace(tzinfo=UTC).timestamp() * 1000))
        for device, key, value in ((a, "A", 100.0 + k), (b, "B", 5000.5 - k)):
            lines.append(f"{device},spindle_speed,{stamp},{value}")
            expected[world.tags[key]].append(value)
    lines += [f"{a},no_such_tag,{start.isoformat()},1", f"{a},spindle_speed,{start},high"]
    path = tmp_path / "recorded.csv"
    path.write_text("\n".join(lines) + "\n")

    rows = load_fleet(ctx.db).rows
    recording = read_recording(path, rows)
    assert len(recording) == 40
    assert recording.skipped == {
        "no number value": 1,
        "tag not in the registry (or its device disabled)": 1,
    }
    with pytest.raises(ReplayError, match="give --device or a device_id column"):
        no_devices = tmp_path / "names.csv"
        no_devices.write_text("tag,ts,value\nspindle_speed,1767600000000,1\n")
        read_recording(no_devices, rows)
    layout, _ = layout_of(recording.rows)
    publisher = HttpPublisher(api, world.tokens["operator"], layout, [0, 1])
    replay = Replay(recording, publisher, speed=50.0)
    started = _now_ms()
    await replay.start()
    try:
        await replay.run(asyncio.Event())
    finally:
        await replay.close()
    assert replay.report.sent == 40 and replay.report.rounds == 1
    assert publisher.stats.errors == 0 and publisher.stats.readings == 40
    async with httpx.AsyncClient(base_url=api, headers=world.headers("operator")) as client:
        params = [("tag_id", t) for t in expected] + [("start", started.isoformat() + "Z")]
        got = (await client.get("/api/v1/telemetry/raw", params=params)).json()
    for tag_id, values in expected.items():
        series = [r for r in got if r["tag_id"] == tag_id]
        assert [r["value"] for r in series] == values
        stamps = [datetime.fromisoformat(r["ts"]) for r in series]
        spacing = [_ms(b - a) for a, b in itertools.pairwise(stamps)]
        assert all(abs(gap - 1000 / 50) <= 2 for gap in spacing)  # 1 s recorded, 50x
