"""Joint-delivery rows for the authorization matrix (tests/test_authz.py): a warehouse, a
truck, a stop of each company and a plan of them, made through the services as the system."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.delivery import plans, service
from sandan.logistics.delivery.schemas import PlanIn, StopIn, VehicleIn
from sandan.logistics.schemas import WarehouseIn
from sandan.logistics.service import layout

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2026, 12, 1)


def seed_delivery(ctx: Context, world: World) -> dict[str, Any]:
    """The ids the matrix fills in: vehicle_id, stop_id (company A's), plan_id, and the
    warehouse as dlv_warehouse_id."""
    system = Principal.system("authz")
    with ctx.db.unit(system) as s:
        wh = layout.create_warehouse(
            s, system, WarehouseIn(code="DLV", name="공동배송", lat=36.1, lon=128.38)
        )
        truck = service.add_vehicle(s, system, VehicleIn(plate="경북00자0000", capacity_kg=100))
        stop_ids = {}
        for key, north in (("A", 0.01), ("B", -0.01)):
            stop = service.add_stop(
                s,
                system,
                StopIn(
                    owner_company_id=world.companies[key],
                    warehouse_id=wh.id,
                    ship_to=f"{key} 고객",
                    lat=36.1 + north,
                    lon=128.39,
                    window_start=datetime.combine(DAY, time(9), SEOUL),
                    window_end=datetime.combine(DAY, time(12), SEOUL),
                    weight_kg=5,
                ),
                SEOUL,
            )
            stop_ids[key] = stop.id
        plan = plans.plan_day(
            s, system, PlanIn(warehouse_id=wh.id, day=DAY, time_limit_s=1, quick=True), SEOUL
        )
        return {
            "dlv_warehouse_id": wh.id,
            "vehicle_id": truck.id,
            "stop_id": stop_ids["A"],
            "plan_id": plan.id,
        }
