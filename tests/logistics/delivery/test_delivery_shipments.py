"""The warehouse's ready shipments join the joint run by themselves when the day is planned;
a cancelled shipment leaves it."""

from __future__ import annotations

from datetime import datetime

from delivery_world import DAY, SEOUL, D, Day, at, plan, warehouse
from fastapi.testclient import TestClient
from vrp_cases import offset

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Order, Shipment


def _shipment(ctx: Context, world: World, wid: int, key: str, north: float) -> int:
    """A packed order of company `key` with its shipment, as the warehouse leaves it."""
    lat, lon = offset(north, 1)
    where = {"ship_to": f"{key} 고객", "lat": lat, "lon": lon, "ship_date": DAY}
    window = {
        "window_start": datetime.fromisoformat(at(10)),
        "window_end": datetime.fromisoformat(at(14)),
    }
    with ctx.db.unit(Principal.system("test")) as s:
        order = Order(
            owner_company_id=world.companies[key],
            warehouse_id=wid,
            ref=f"SO-{key}-{north}",
            status="packed",
            **where,
            **window,
        )
        s.add(order)
        s.flush()
        ship = Shipment(
            owner_company_id=world.companies[key],
            warehouse_id=wid,
            order_id=order.id,
            weight_kg=12.5,
            volume_m3=0.2,
            **where,
            **window,
        )
        s.add(ship)
        s.flush()
        return ship.id


def test_ready_shipments_become_stops_and_cancelled_ones_leave(
    client: TestClient, ctx: Context, world: World
) -> None:
    wid = warehouse(ctx)
    ops = world.headers("logistics")
    truck = {"plate": "경북55마5555", "capacity_kg": 100, "capacity_m3": 1.0}
    assert client.post(f"{D}/vehicles", headers=ops, json=truck).status_code == 201
    a1, a2 = _shipment(ctx, world, wid, "A", 2), _shipment(ctx, world, wid, "A", 4)
    b1 = _shipment(ctx, world, wid, "B", -3)
    day = Day(wid)
    first = plan(client, world, day)
    stops = client.get(f"{D}/stops", headers=ops, params={"day": DAY}).json()
    by_shipment = {s["shipment_id"]: s for s in stops}
    assert set(by_shipment) == {a1, a2, b1}
    assert by_shipment[a1]["weight_kg"] == 12.5 and by_shipment[a1]["ref"] == f"SHP-{a1}"
    served = {s["stop_id"] for r in first["routes"] for s in r["stops"]}
    assert served == {s["id"] for s in stops}
    start = datetime.fromisoformat(first["routes"][0]["stops"][0]["start_at"]).astimezone(SEOUL)
    assert 10 <= start.hour < 14
    # A's tenant sees its two shipments' stops only, and cannot cancel them as stops.
    mine = client.get(f"{D}/stops", headers=world.headers("admin_a")).json()
    assert {s["shipment_id"] for s in mine} == {a1, a2}
    refused = client.delete(f"{D}/stops/{by_shipment[a1]['id']}", headers=world.headers("admin_a"))
    assert refused.status_code == 409

    with ctx.db.unit(Principal.system("test")) as s:
        ship = s.get(Shipment, a2)
        assert ship is not None
        ship.status = "cancelled"
    second = plan(client, world, day)
    served = {s["stop_id"] for r in second["routes"] for s in r["stops"]}
    assert served == {by_shipment[a1]["id"], by_shipment[b1]["id"]}
    assert second["stops_total"] == 2 and second["warm_started"]
