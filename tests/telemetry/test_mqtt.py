"""MQTT ingest against the local Mosquitto: JSON topics, rejects kept, shared subscriptions."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiomqtt
import orjson
import pytest
from sqlalchemy import select

from conftest import World, need_service
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.mqtt import MqttIngest, parse_topic

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


async def _broker_up() -> None:
    parts = urlsplit(URL)
    try:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DuckDBStore]:
    await _broker_up()
    s = DuckDBStore(tmp_path / "telemetry.duckdb")
    yield s
    s.close()


async def _publish(messages: list[tuple[str, bytes]]) -> None:
    parts = urlsplit(URL)
    async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


async def _until(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_topics() -> None:
    assert parse_topic("sandan/v1/3/17/data") == (3, 17)
    assert parse_topic("sandan/v1/x/17/data") is None
    assert parse_topic("sandan/v1/3/17/status") is None


async def test_json_messages_are_stored_and_bad_ones_kept(
    ctx: Context, world: World, store: DuckDBStore
) -> None:
    group = f"t{uuid.uuid4().hex[:8]}"
    worker = MqttIngest(ctx.db, store, URL, group=group, flush_ms=50)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.ready.wait(), 10)
    a, b = world.companies["A"], world.companies["B"]
    own = f"sandan/v1/{a}/{world.devices['A']}/data"
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    await _publish(
        [
            (own, orjson.dumps({"ts": now_ms - 2000, "values": {"spindle_speed": 4200}})),
            (own, orjson.dumps({"spindle_speed": 4300})),  # ThingsBoard shape, server time
            (own, orjson.dumps({"tag": ["spindle_speed"], "ts": [now_ms - 1000], "value": [4250]})),
            (own, b"{broken"),
            (own, orjson.dumps({"not_my_tag": 1})),
            (f"sandan/v1/{a}/{world.devices['B']}/data", orjson.dumps({"spindle_speed": 1})),
        ]
    )
    await _until(
        lambda: (
            worker.stats.messages == 6
            and worker.stats.flushes > 0
            and worker.stats.stored + worker.stats.rejected >= 6
        )
    )
    await worker.stop()
    await asyncio.wait_for(task, 10)
    assert worker.stats.stored >= 3
    latest = store.latest([world.tags["A"]]).to_pylist()
    assert latest and latest[0]["value"] == 4300.0
    assert store.latest([world.tags["B"]]).num_rows == 0  # B's device under A's topic refused
    with ctx.db.unit() as session:
        letters = session.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
    reasons = " ".join(r["reason"] for letter in letters for r in letter.rows)
    assert "not valid JSON" in reasons and "not a tag of this device" in reasons
    assert f"device {world.devices['B']} not found or disabled" in reasons
    assert any(letter.company_id == a for letter in letters)
    assert b not in {letter.company_id for letter in letters}


async def test_a_shared_subscription_splits_the_load(
    ctx: Context, world: World, store: DuckDBStore
) -> None:
    group = f"t{uuid.uuid4().hex[:8]}"
    workers = [MqttIngest(ctx.db, store, URL, group=group, flush_ms=50) for _ in range(2)]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    for w in workers:
        await asyncio.wait_for(w.ready.wait(), 10)
    own = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
    base = int(datetime.now(UTC).timestamp() * 1000) - 60_000
    await _publish(
        [(own, orjson.dumps({"ts": base + i, "values": {"spindle_speed": i}})) for i in range(200)]
    )
    await _until(lambda: sum(w.stats.stored for w in workers) == 200)
    assert all(w.stats.messages > 0 for w in workers)  # the broker spread the messages
    assert sum(w.stats.messages for w in workers) == 200  # and gave each to one worker only
    for w in workers:
        await w.stop()
    for t in tasks:
        await asyncio.wait_for(t, 10)
    assert store.count() == 200


async def test_the_worker_command_stores_everything_before_it_exits(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    """`sandan ingest mqtt` as its own process: SIGTERM flushes what it received, then exits."""
    await _broker_up()
    group = f"t{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "SANDAN_DATA_DIR": str(settings.data_dir), "SANDAN_MQTT_URL": URL}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from sandan.cli import main; main()",
        "ingest",
        "mqtt",
        "--group",
        group,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert b"MQTT ingest worker" in line
    await asyncio.sleep(0.5)  # subscribed
    own = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
    base = int(datetime.now(UTC).timestamp() * 1000) - 120_000
    await _publish(
        [(own, orjson.dumps({"ts": base + i, "values": {"spindle_speed": i}})) for i in range(500)]
    )
    await asyncio.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, out
    assert b"500 readings stored" in out
    store = DuckDBStore(settings.resolved_telemetry_path())
    assert store.count() == 500
    store.close()
