"""A shared warehouse, a small fleet and a day of stops for the delivery API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from vrp_cases import LAT0, LON0, offset

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.schemas import WarehouseIn
from sandan.logistics.service import layout

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2026, 12, 1)
D = "/api/v1/logistics/delivery"


@dataclass
class Day:
    warehouse_id: int
    vehicles: list[int] = field(default_factory=list)
    stops: dict[str, list[int]] = field(default_factory=dict)  # company key → stop ids


def at(hour: float, day: date = DAY) -> str:
    """A local (Seoul) time of the day as ISO with its offset."""
    moment = datetime.combine(day, time(0), tzinfo=SEOUL) + timedelta(hours=hour)
    return moment.isoformat()


def warehouse(ctx: Context, code: str = "GMW1") -> int:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        row = layout.create_warehouse(
            s, system, WarehouseIn(code=code, name="구미 공동물류센터", lat=LAT0, lon=LON0)
        )
        return row.id


def stop_body(warehouse_id: int, i: int, north: float, east: float, **extra: Any) -> dict[str, Any]:
    lat, lon = offset(north, east)
    body = {
        "warehouse_id": warehouse_id,
        "ref": f"R{i}",
        "ship_to": f"고객 {i}",
        "lat": lat,
        "lon": lon,
        "window_start": at(9 + i % 6),
        "window_end": at(11 + i % 6),
        "weight_kg": 5.0 + i % 4,
    }
    return body | extra


def build_day(client: TestClient, ctx: Context, world: World, per_company: int = 6) -> Day:
    """Two trucks; each of companies A and B enters stops, B also one too heavy to carry."""
    day = Day(warehouse(ctx))
    ops = world.headers("logistics")
    for plate, kg in (("경북12가3456", 60.0), ("경북34나7890", 80.0)):
        made = client.post(f"{D}/vehicles", headers=ops, json={"plate": plate, "capacity_kg": kg})
        assert made.status_code == 201, made.text
        day.vehicles.append(made.json()["id"])
    for key, sign in (("A", 1), ("B", -1)):
        who = world.headers(f"admin_{key.lower()}")
        ids = []
        for i in range(per_company):
            body = stop_body(day.warehouse_id, i, sign * (1 + i), 2 - i)
            made = client.post(f"{D}/stops", headers=who, json=body)
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        day.stops[key] = ids
    heavy = stop_body(day.warehouse_id, 99, -3, -3, weight_kg=500.0)
    made = client.post(f"{D}/stops", headers=world.headers("admin_b"), json=heavy)
    assert made.status_code == 201, made.text
    day.stops["heavy"] = [made.json()["id"]]
    return day


def plan(client: TestClient, world: World, day: Day, **extra: Any) -> dict[str, Any]:
    """Plan the day as the logistics operator; the answer's JSON."""
    body = {"warehouse_id": day.warehouse_id, "day": DAY.isoformat(), "time_limit_s": 1} | extra
    made = client.post(f"{D}/plans", headers=world.headers("logistics"), json=body)
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer
