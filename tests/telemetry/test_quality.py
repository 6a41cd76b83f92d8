"""Gaps and the daily data-quality score, computed in SQL by both stores (DuckDB and
PostgreSQL, the latter against SANDAN_TEST_DATABASE_URL in a schema of its own), and served
by the API within the caller's permissions."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from stores import open_store

from conftest import World
from sandan.telemetry.store import BAD, GOOD, SUSPECT, TelemetryStore

SCHEMA = f"telemetry_quality_{os.getpid()}"
DAY = date(2026, 11, 2)
T0 = datetime(2026, 11, 2)  # midnight UTC

Row = tuple[int, float, int]  # tag, seconds after T0, quality


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[TelemetryStore]:
    yield from open_store(request.param, SCHEMA)


def _append(store: TelemetryStore, rows: Sequence[Row]) -> None:
    store.append(
        pa.table(
            {
                "tag_id": pa.array([r[0] for r in rows], pa.int32()),
                "ts": pa.array([T0 + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us")),
                "value": pa.array([1.0] * len(rows), pa.float64()),
                "quality": pa.array([r[2] for r in rows], pa.uint8()),
            }
        )
    )


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_gaps_are_silences_longer_than_k_sampling_intervals(store: TelemetryStore) -> None:
    # tag 1 every second, silent 3..10 s and 12..30 s, then quiet until the window ends;
    # tag 2 has never sent; tag 3 reports every 10 s, its own interval: no gap.
    _append(store, [(1, s, GOOD) for s in (0, 1, 2, 3, 10, 11, 12, 30)])
    _append(store, [(3, s, GOOD) for s in range(-20, 40, 10)])
    got = store.gaps({1: 1000, 2: 1000, 3: 10_000}, _at(0), _at(40)).to_pylist()
    assert [(g["tag_id"], g["start"], g["end"], g["seconds"], g["ongoing"]) for g in got] == [
        (1, _at(3), _at(10), 7.0, False),
        (1, _at(12), _at(30), 18.0, False),
        (1, _at(30), _at(40), 10.0, True),  # still silent when the window ends
        (2, _at(0), _at(40), 40.0, True),  # nothing at all: the whole window
    ]
    assert [g["missing"] for g in got] == [6, 17, 9, 39]
    # a wider factor forgives the 7-second silence; `limit` caps the rows
    wider = store.gaps({1: 1000}, _at(0), _at(40), factor=8.0).to_pylist()
    assert [(g["start"], g["end"]) for g in wider] == [(_at(12), _at(30)), (_at(30), _at(40))]
    assert store.gaps({1: 1000}, _at(0), _at(40), limit=1).num_rows == 1
    assert store.gaps({}, _at(0), _at(40)).num_rows == 0
    # newest first (a page of recent silences): the latest start leads, and `limit` then
    # keeps the most recent rather than the first tag's oldest
    newest = store.gaps({1: 1000, 2: 1000, 3: 10_000}, _at(0), _at(40), newest_first=True)
    assert [(g["tag_id"], g["start"]) for g in newest.to_pylist()] == [
        (1, _at(30)),
        (1, _at(12)),
        (1, _at(3)),
        (2, _at(0)),
    ]
    recent = store.gaps({1: 1000, 2: 1000}, _at(0), _at(40), limit=2, newest_first=True)
    assert [g["start"] for g in recent.to_pylist()] == [_at(30), _at(12)]


def test_a_gap_open_at_the_window_start_is_clipped_to_it(store: TelemetryStore) -> None:
    _append(store, [(1, -60, GOOD), (1, 5, GOOD), (1, 6, GOOD)])
    _append(store, [(2, -1, GOOD), (2, 1, GOOD), (2, 3.5, GOOD), (2, 6, GOOD)])
    got = store.gaps({1: 1000, 2: 1000}, _at(0), _at(7)).to_pylist()
    # tag 1 was silent from -60 s: inside the window that is 0..5 s; tag 2's reading one second
    # before the window start keeps it continuous, and no step of it is longer than 3 s.
    assert [(g["tag_id"], g["start"], g["end"], g["ongoing"]) for g in got] == [
        (1, _at(0), _at(5), False)
    ]


def _hand_day(store: TelemetryStore) -> None:
    """Tag 7 samples once a minute (1,440 readings a day). On DAY it misses 10:00..10:59 (60
    readings), and of the 1,380 it sent 100 are SUSPECT and 20 BAD. The next day it sends the
    first six hours only."""
    minutes = [m for m in range(1440) if not 600 <= m < 660]
    quality = [SUSPECT if i < 100 else BAD if i < 120 else GOOD for i in range(len(minutes))]
    _append(store, [(7, 60 * m, q) for m, q in zip(minutes, quality, strict=True)])
    _append(store, [(7, 86_400 + 60 * m, GOOD) for m in range(360)])


def test_daily_quality_score_hand_checked(store: TelemetryStore) -> None:
    _hand_day(store)
    noon_next_day = T0 + timedelta(days=1, hours=12)
    got = store.quality_daily(
        {7: 60_000, 8: 1000},
        DAY,
        DAY + timedelta(days=2),
        until=noon_next_day,
        rejected={(7, DAY): 30, (99, DAY): 5},
    ).to_pylist()
    assert [(r["tag_id"], r["day"]) for r in got] == [
        (7, DAY),
        (7, DAY + timedelta(days=1)),  # the day after that has not begun: left out
        (8, DAY),
        (8, DAY + timedelta(days=1)),
    ]
    first, second, silent, _ = got
    assert (first["expected"], first["received"], first["good"]) == (1440.0, 1380, 1260)
    assert (first["suspect"], first["bad"], first["rejected"]) == (100, 20, 30)
    # completeness 1380/1440; validity (1260 + 0.5 × 100) / (1380 + 30);
    # continuity: the silence from 09:59 to 11:00 is 61 minutes of the day's 1440
    assert first["completeness"] == pytest.approx(0.958333333, abs=1e-9)
    assert first["validity"] == pytest.approx(0.929078014, abs=1e-9)
    assert first["continuity"] == pytest.approx(0.957638889, abs=1e-9)
    # 100 × (0.4 × 0.958333 + 0.4 × 0.929078 + 0.2 × 0.957639) = 38.3333 + 37.1631 + 19.1528
    assert first["score"] == pytest.approx(94.649232, abs=1e-6)
    # judged up to noon: 720 due, 360 sent (all GOOD), silent from 05:59 to 12:00
    assert (second["expected"], second["received"], second["rejected"]) == (720.0, 360, 0)
    assert second["completeness"] == pytest.approx(0.5)
    assert second["validity"] == pytest.approx(1.0)
    assert second["continuity"] == pytest.approx(1 - 361 / 720)
    assert second["score"] == pytest.approx(100 * (0.2 + 0.4 + 0.2 * (1 - 361 / 720)))
    # a tag that never sent: nothing complete, nothing to judge valid, all silence
    assert (silent["received"], silent["validity"], silent["continuity"]) == (0, None, 0.0)
    assert silent["score"] == 0.0


def test_quality_of_no_tags_or_days_to_come_is_empty(store: TelemetryStore) -> None:
    assert store.quality_daily({}, DAY, DAY, until=T0 + timedelta(days=3)).num_rows == 0
    assert store.quality_daily({1: 1000}, DAY, DAY, until=T0).num_rows == 0


@pytest.fixture
def device_key(client: TestClient, world: World) -> dict[str, str]:
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    return {"Authorization": f"Bearer {made.json()['token']}"}


def test_gaps_and_quality_through_the_api(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    sent = [now - timedelta(seconds=s) for s in [*range(120, 100, -1), *range(60, 40, -1)]]
    body = {
        "tag": ["spindle_speed"] * (len(sent) + 3),  # sampled every second
        "ts": [t.isoformat() for t in sent] + [(now - timedelta(seconds=50)).isoformat()] * 3,
        "value": [4000] * (len(sent) - 2) + [12_400, 99_000] + ["fast", None, 1.0],
    }
    body["unit"] = [None] * (len(sent) + 2) + ["bar"]
    r = client.post("/api/v1/telemetry/readings", headers=device_key, json=body)
    assert r.json()["stored"] == 40 and r.json()["rejected"] == 3, r.text
    tag, member = world.tags["A"], world.headers("member_a")

    window = {"tag_id": tag, "start": (now - timedelta(seconds=110)).isoformat()}
    gaps = client.get("/api/v1/telemetry/gaps", params=window, headers=member).json()
    assert [(g["start"], g["end"], g["ongoing"]) for g in gaps[:1]] == [
        (
            (now - timedelta(seconds=101)).isoformat().replace("+00:00", "Z"),
            (now - timedelta(seconds=60)).isoformat().replace("+00:00", "Z"),
            False,
        )
    ]
    assert gaps[-1]["ongoing"] is True  # nothing since 41 s ago
    latest = client.get(
        "/api/v1/telemetry/gaps", params={**window, "order": "newest", "limit": 1}, headers=member
    ).json()
    # the ongoing silence, whose end is the moment of asking
    assert [(g["start"], g["ongoing"]) for g in latest] == [(gaps[-1]["start"], True)]
    wrong_order = client.get(
        "/api/v1/telemetry/gaps", params={**window, "order": "longest"}, headers=member
    )
    assert wrong_order.status_code == 422 and wrong_order.json()["fields"][0]["field"] == "order"

    days = {"tag_id": tag, "start": sent[0].date().isoformat(), "end": now.date().isoformat()}
    rows = client.get("/api/v1/telemetry/quality", params=days, headers=member).json()
    totals = {k: sum(r[k] for r in rows) for k in ("received", "good", "suspect", "bad")}
    # 12,400 rpm is SUSPECT drift, 99,000 BAD; the three refused readings count against
    # validity (they are in the device's dead letter)
    assert totals == {"received": 40, "good": 38, "suspect": 1, "bad": 1}
    assert sum(r["rejected"] for r in rows) == 3
    assert all(0 <= r["score"] <= 100 for r in rows)

    other = client.get("/api/v1/telemetry/quality", params=days, headers=world.headers("admin_b"))
    assert other.status_code == 200 and other.json() == []
    both = client.get(
        "/api/v1/telemetry/quality", params={**days, "day": days["end"]}, headers=member
    )
    assert both.status_code == 422 and both.json()["fields"][0]["field"] == "day"
    backwards = {"tag_id": tag, "start": "2026-11-05", "end": "2026-11-01"}
    wrong = client.get("/api/v1/telemetry/quality", params=backwards, headers=member)
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "end"
