"""/metrics for ingest: every path (HTTP, CSV, MQTT, replay) counts stored, duplicate and
rejected readings by source and bounded reason, and the batch latency; the standalone MQTT
worker serves the same on --metrics-port."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiomqtt
import orjson
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import World, need_service
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry.ingest_metrics import CATEGORIES, reason_category
from sandan.telemetry.mqtt import MessageIngestor

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value of a Prometheus text page."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _get(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_reason_categories_are_a_fixed_set() -> None:
    assert reason_category("tag: not a tag of this device") == "unknown_tag"
    assert reason_category("ts: in the future") == "future_time"
    assert reason_category("device 17 not found or disabled in company 3") == "unknown_device"
    assert reason_category("not valid JSON: unexpected character") == "unreadable_message"
    assert reason_category("unit: 'furlong' is not a unit") == "unit_other"
    assert reason_category("anything a future parser says about tag 'x7'") == "other"
    assert {reason_category(r) for r in ("a", "b: c", "row: expected 3")} <= CATEGORIES


def test_every_ingest_path_is_counted(client: TestClient, world: World, ctx: Context) -> None:
    device = world.devices["A"]
    admin = world.headers("admin_a")
    now = datetime.now(UTC)
    body = {
        "tag": ["spindle_speed", "spindle_speed", "spindle_speed", "nope", "spindle_speed"],
        "ts": [now.isoformat()] * 2 + [(now - timedelta(seconds=1)).isoformat()] * 2 + ["?"],
        "value": [1, 2, 3, 4, 5],
    }
    http = client.post(
        "/api/v1/telemetry/readings", params={"device_id": device}, headers=admin, json=body
    ).json()
    assert (http["stored"], http["duplicates"], http["rejected"]) == (2, 1, 2)
    csv = "tag,ts,value\nspindle_speed,2020-01-01T00:00:00Z,7\nspindle_speed,x,8\n"
    client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": device},
        headers={**admin, "Content-Type": "text/csv"},
        content=csv.encode(),
    )
    store = client.app.state.telemetry_store  # type: ignore[attr-defined]
    MessageIngestor(ctx.db, store).ingest(
        [
            (
                f"sandan/v1/{world.companies['A']}/{device}/data",
                orjson.dumps({"spindle_speed": 9, "nope": 1}),
                now.timestamp() * 1000 + 500,  # not the time of the HTTP readings
            ),
            ("not/a/topic", b"{}", now.timestamp() * 1000),
            (f"sandan/v1/{world.companies['A']}/999/data", b"{}", now.timestamp() * 1000),
        ]
    )
    client.post(f"/api/v1/telemetry/dead-letters/{http['dead_letter_id']}/replay", headers=admin)

    m = _samples(client.get("/metrics").text)
    readings = "sandan_telemetry_readings_total"
    assert _get(m, readings, source="http", outcome="stored") == 2
    assert _get(m, readings, source="http", outcome="duplicate") == 1  # same tag and time twice
    assert _get(m, readings, source="http", outcome="rejected") == 2
    rejects = "sandan_telemetry_rejects_total"
    assert _get(m, rejects, source="http", reason="unknown_tag") == 1
    assert _get(m, rejects, source="http", reason="bad_time") == 1
    assert _get(m, readings, source="csv", outcome="stored") == 1
    assert _get(m, rejects, source="csv", reason="bad_time") == 1
    assert _get(m, readings, source="mqtt", outcome="stored") == 1
    assert _get(m, rejects, source="mqtt", reason="unknown_tag") == 1
    assert _get(m, rejects, source="mqtt", reason="refused_topic") == 1
    assert _get(m, rejects, source="mqtt", reason="unknown_device") == 1
    assert _get(m, "sandan_telemetry_dead_letters_total", source="mqtt") == 2
    assert _get(m, "sandan_telemetry_batch_seconds_count", source="http") == 1
    assert _get(m, "sandan_telemetry_batch_seconds_count", source="mqtt") == 1
    # the replay tried the unknown tag again (still unknown): nothing stored, not re-counted
    assert _get(m, readings, source="replay", outcome="stored") == 0
    assert _get(m, rejects, source="replay", reason="unknown_tag") == 0
    labels = {dict(k[1]).get("reason") for k in m if k[0] == rejects}
    assert labels <= CATEGORIES  # no tag names, ids or parser messages as label values


async def test_the_mqtt_worker_serves_its_metrics(settings: Settings, world: World) -> None:
    parts = urlsplit(URL)
    try:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "SANDAN_DATA_DIR": str(settings.data_dir), "SANDAN_MQTT_URL": URL}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    group = f"t{uuid.uuid4().hex[:8]}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from sandan.cli import main; main()",
        "ingest",
        "mqtt",
        "--group",
        group,
        "--metrics-port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        for _ in range(2):
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            if b"MQTT ingest worker" in line:
                break
        assert b"MQTT ingest worker" in line, line
        await asyncio.sleep(0.5)  # subscribed
        topic = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as client:
            await client.publish(topic, orjson.dumps({"spindle_speed": 1, "nope": 2}), qos=1)

        def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return _samples(r.read().decode())

        deadline = asyncio.get_running_loop().time() + 20
        while True:
            m = await asyncio.to_thread(scrape)
            if _get(m, "sandan_telemetry_readings_total", source="mqtt", outcome="rejected"):
                break
            assert asyncio.get_running_loop().time() < deadline, "no ingest counted"
            await asyncio.sleep(0.1)
        assert _get(m, "sandan_telemetry_readings_total", source="mqtt", outcome="stored") == 1
        assert _get(m, "sandan_telemetry_rejects_total", source="mqtt", reason="unknown_tag") == 1
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 30)
