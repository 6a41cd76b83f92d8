"""Kill the MQTT ingest worker mid-stream (SIGKILL), start it again: every published reading
is stored exactly once. Messages are acknowledged only after their readings are committed,
the broker keeps the worker's session, and the store's (tag, ts) key drops repeats."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson
import pytest

from conftest import World, own_mosquitto
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore

MESSAGES = 3000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own, set up as docs/operations.md advises for ingest."""
    yield from own_mosquitto(tmp_path)


async def _worker(settings: Settings, port: int, client_id: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SANDAN_DATA_DIR": str(settings.data_dir),
        "SANDAN_MQTT_URL": f"mqtt://127.0.0.1:{port}",
    }
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from sandan.cli import main; main()",
        "ingest",
        "mqtt",
        "--group",
        "",
        "--client-id",
        client_id,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert b"MQTT ingest worker" in line, line
    await asyncio.sleep(0.5)  # connected and subscribed
    return process


async def test_killing_the_worker_loses_and_repeats_nothing(
    settings: Settings, world: World, broker: int
) -> None:
    client_id = f"kill-{uuid.uuid4().hex[:8]}"
    first = await _worker(settings, broker, client_id)
    topic = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
    base = int(datetime.now(UTC).timestamp() * 1000) - 600_000
    async with aiomqtt.Client("127.0.0.1", broker) as publisher:
        for i in range(MESSAGES):
            await publisher.publish(
                topic, orjson.dumps({"ts": base + i, "values": {"spindle_speed": i}}), qos=1
            )
            if i == MESSAGES // 3:
                first.send_signal(signal.SIGKILL)  # mid-stream, no chance to flush
                await first.wait()
    second = await _worker(settings, broker, client_id)  # same session: the rest comes now
    await asyncio.sleep(4.0)
    second.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(second.communicate(), 30)
    assert second.returncode == 0, out
    store = DuckDBStore(settings.resolved_telemetry_path())
    try:
        assert store.count() == MESSAGES  # every reading once: none lost, none twice
        values = store.raw(
            [world.tags["A"]],
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
            10 * MESSAGES,
        )
        assert sorted(values.column("value").to_pylist()) == [float(i) for i in range(MESSAGES)]
    finally:
        store.close()
