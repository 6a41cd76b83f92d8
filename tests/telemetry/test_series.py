"""Downsampling for charts: equal buckets with a min/max envelope, from the coarsest
resolution that suffices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from fastapi.testclient import TestClient

from conftest import World
from sandan.telemetry.series import merge_buckets
from sandan.telemetry.store import ROLLUPS


def test_merging_keeps_extremes_and_weights_the_mean() -> None:
    t0 = datetime(2026, 11, 24, 0, 0)
    source = pa.table(
        {
            "tag_id": [1, 1, 1, 2],
            "bucket": [t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=2), t0],
            "min": [1.0, -5.0, 2.0, 7.0],
            "max": [3.0, 9.0, 4.0, 7.0],
            "avg": [2.0, 5.0, 3.0, 7.0],
            "count": [10, 30, 10, 1],
            "last": [3.0, 6.0, 2.5, 7.0],
        },
        schema=ROLLUPS,
    )
    merged = merge_buckets(source, t0.replace(tzinfo=UTC), timedelta(minutes=2)).to_pylist()
    assert merged == [
        {
            "tag_id": 1,
            "bucket": t0,
            "min": -5.0,
            "max": 9.0,
            "avg": (20 + 150) / 40,
            "count": 40,
            "last": 6.0,
        },
        {"tag_id": 2, "bucket": t0, "min": 7.0, "max": 7.0, "avg": 7.0, "count": 1, "last": 7.0},
        {
            "tag_id": 1,
            "bucket": t0 + timedelta(minutes=2),
            "min": 2.0,
            "max": 4.0,
            "avg": 3.0,
            "count": 10,
            "last": 2.5,
        },
    ]


def _send_minutes(client: TestClient, world: World, start: datetime, minutes: int) -> None:
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    key = {"Authorization": f"Bearer {made.json()['token']}"}
    n = minutes * 60
    body = {
        "tag": ["spindle_speed"] * n,
        "ts": [(start + timedelta(seconds=i)).isoformat() for i in range(n)],
        "value": [float(i % 60) for i in range(n)],  # 0..59 each minute
    }
    assert client.post("/api/v1/telemetry/readings", headers=key, json=body).status_code == 200


def test_a_long_window_comes_from_rollups(client: TestClient, world: World) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    _send_minutes(client, world, start, 20)
    r = client.get(
        "/api/v1/telemetry/series",
        params={
            "tag_id": world.tags["A"],
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=20)).isoformat(),
            "points": 10,
        },
        headers=world.headers("member_a"),
    )
    assert r.status_code == 200, r.text
    rows = r.json()
    assert len(rows) == 10  # 2-minute buckets
    assert all(row["count"] == 120 and row["min"] == 0 and row["max"] == 59 for row in rows)
    assert all(abs(row["avg"] - 29.5) < 1e-9 and row["last"] == 59 for row in rows)


def test_a_short_window_comes_from_raw_readings(client: TestClient, world: World) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    _send_minutes(client, world, start, 2)
    r = client.get(
        "/api/v1/telemetry/series",
        params={
            "tag_id": world.tags["A"],
            "start": start.isoformat(),
            "end": (start + timedelta(seconds=100)).isoformat(),
            "points": 10,
        },
        headers=world.headers("member_a"),
    )
    rows = r.json()
    assert [row["count"] for row in rows] == [10] * 10
    assert [row["min"] for row in rows][:6] == [0, 10, 20, 30, 40, 50]
    assert rows[6]["min"] == 0 and rows[6]["max"] == 9  # 60..69 s: a new minute, 0..9
