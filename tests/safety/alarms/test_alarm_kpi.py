"""Alarm-system KPIs: rate per operator, floods, chattering, stale alarms, bad actors and
priorities, pure and through the report API (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import kpi, service

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_rate_per_operator_per_ten_minutes() -> None:
    raised = np.array([10.0, 20, 30, 700, 1300, 1310])  # 3, 1, 2 in three intervals
    r = kpi.rate(raised, 0, 1800, operators=2)
    assert (r.average, r.peak) == (1.0, 1.5)
    assert r.share_over_target == 1 / 3  # 1.5, 0.5 and 1.0 per operator


def test_floods_are_found_and_merged() -> None:
    calm = np.arange(0, 3600, 600.0)  # one alarm every 10 minutes
    burst = 5000 + np.arange(12) * 20.0  # 12 in 4 minutes
    second = 9000 + np.arange(10) * 60.0  # exactly 10 in 9 minutes
    periods = kpi.floods(np.r_[calm, burst, second])
    assert [(p.start, p.end, p.alarms) for p in periods] == [
        (5000.0, 5220.0, 12),
        (9000.0, 9540.0, 10),
    ]
    assert kpi.floods(np.r_[calm, 9000 + np.arange(9) * 60.0]) == []
    assert kpi.time_in_flood(periods, 0, 10_000) == (220 + 540) / 10_000


def test_chattering_stale_bad_actors_and_priorities() -> None:
    keys = np.array([1, 1, 1, 2, 2, 2, 3])
    at = np.array([0, 20, 50, 0, 40, 100, 0.0])  # 1: 3 in 50 s; 2: 3 in 100 s
    assert kpi.chattering(keys, at).tolist() == [1]
    assert kpi.stale(np.array([0.0, 90_000]), np.array([True, True]), 100_000).tolist() == [
        True,
        False,
    ]
    actors, share = kpi.bad_actors(["a"] * 5 + ["b"] * 3 + [f"x{i}" for i in range(12)])
    assert [(a.key, a.alarms) for a in actors[:2]] == [("a", 5), ("b", 3)]
    assert len(actors) == 10 and share == 16 / 20
    assert kpi.priority_distribution(["low", "low", "high", "critical"]) == {
        "low": 0.5,
        "medium": 0.0,
        "high": 0.25,
        "critical": 0.25,
    }


def test_a_flood_is_detected_and_reported(client: TestClient, ctx: Context, world: World) -> None:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        for i in range(12):  # a gas release trips 12 detectors within 4 minutes
            service.raise_external(
                s,
                source=f"gas:D{i}",
                condition="HIGH",
                priority="high" if i < 2 else "low",
                message="gas",
                company_id=world.companies["A"],
                lat=None,
                lon=None,
                at=T0 + timedelta(seconds=20 * i),
                kind="gas",
            )
        service.raise_external(
            s,
            source="gas:D0",
            condition="HIGH",
            priority="high",
            message="gas",
            company_id=world.companies["A"],
            lat=None,
            lon=None,
            at=T0,
            kind="gas",
        )
        for k in range(3):  # then detector 0 chatters
            at = T0 + timedelta(minutes=30, seconds=10 * k)
            service.clear_external(s, source="gas:D0", condition="HIGH", at=at)
            service.raise_external(
                s,
                source="gas:D0",
                condition="HIGH",
                priority="high",
                message="gas",
                company_id=world.companies["A"],
                lat=None,
                lon=None,
                at=at + timedelta(seconds=5),
                kind="gas",
            )
    window = {"start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat(), "operators": 1}
    got = client.get("/api/v1/safety/alarms/kpi", headers=world.headers("safety"), params=window)
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["alarms"] == 15
    ((flood),) = report["floods"]
    assert flood["alarms"] == 12 and flood["start"].startswith("2026-11-24T09:00:00")
    assert report["per_operator_per_10min_peak"] == 12
    assert [c["source"] for c in report["chattering"]] == ["gas:D0"]
    assert report["bad_actors"][0] == {
        "source": "gas:D0",
        "condition": "",
        "alarms": 4,
        "share": 4 / 15,
    }
    assert report["priority_distribution"]["low"] == 10 / 15
    other = client.get("/api/v1/safety/alarms/kpi", headers=world.headers("admin_b"), params=window)
    assert other.json()["alarms"] == 0 and other.json()["floods"] == []  # not B's alarms
    text = client.get(
        "/api/v1/safety/alarms/kpi.csv", headers=world.headers("admin_a"), params=window
    )
    rows = list(csv.reader(io.StringIO(text.text)))
    assert [r for r in rows if r[0] == "flood" and "/" in r[1]] == [
        ["flood", f"{T0.isoformat()}/{(T0 + timedelta(seconds=220)).isoformat()}", "12"]
    ]
    bad = client.get(
        "/api/v1/safety/alarms/kpi",
        headers=world.headers("safety"),
        params={"start": T0.isoformat(), "end": T0.isoformat()},
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "start"


def test_stale_alarms_are_listed(ctx: Context, client: TestClient, world: World) -> None:
    with ctx.db.unit(Principal.system("test")) as s:
        old = service.raise_external(
            s,
            source="water:DMA3",
            condition="leak",
            priority="medium",
            message="night flow",
            company_id=None,
            lat=None,
            lon=None,
            at=datetime.now(UTC) - timedelta(hours=30),
            kind="water",
        )
    got = client.get("/api/v1/safety/alarms/kpi", headers=world.headers("safety"))
    assert got.json()["stale"] == [old.id]
