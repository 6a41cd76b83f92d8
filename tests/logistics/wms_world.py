"""A small shared warehouse for the logistics tests, built through the HTTP API: a receiving
and an outbound bin, a general zone of 2 aisles × 3 racks × 2 levels (2 pallets a bin), a
zone dedicated to company B and one dock taking one truck at a time in 30-minute slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from conftest import World

L = "/api/v1/logistics"
SEOUL = ZoneInfo("Asia/Seoul")


@dataclass
class Floor:
    warehouse_id: int = 0
    dock_id: int = 0
    receiving_bin: int = 0
    outbound_bin: int = 0
    bins: dict[str, int] = field(default_factory=dict)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def build_floor(client: TestClient, world: World) -> Floor:
    op = world.headers("operator")
    floor = Floor()
    floor.warehouse_id = ok(
        client.post(
            f"{L}/warehouses",
            headers=op,
            json={"code": "GM1", "name": "구미 공동물류센터", "lat": 36.1, "lon": 128.38},
        ),
        201,
    )["id"]
    w = floor.warehouse_id
    dock_zone = ok(
        client.post(f"{L}/warehouses/{w}/zones", headers=op, json={"code": "DK", "sequence": 0}),
        201,
    )
    general = ok(
        client.post(f"{L}/warehouses/{w}/zones", headers=op, json={"code": "S", "sequence": 2}), 201
    )
    b_zone = ok(
        client.post(
            f"{L}/warehouses/{w}/zones",
            headers=op,
            json={"code": "B", "sequence": 1, "owner_company_id": world.companies["B"]},
        ),
        201,
    )
    for kind in ("receiving", "outbound"):
        made = ok(
            client.post(
                f"{L}/bins",
                headers=op,
                json={"zone_id": dock_zone["id"], "code": kind.upper(), "kind": kind},
            ),
            201,
        )
        setattr(floor, f"{kind}_bin", made["id"])
    grid = ok(
        client.post(
            f"{L}/bins/grid",
            headers=op,
            json={"zone_id": general["id"], "aisles": 2, "racks": 3, "levels": 2, "max_pallets": 2},
        ),
        201,
    )
    grid += ok(
        client.post(
            f"{L}/bins/grid",
            headers=op,
            json={"zone_id": b_zone["id"], "aisles": 1, "racks": 2, "levels": 1, "max_pallets": 4},
        ),
        201,
    )
    floor.bins = {b["code"]: b["id"] for b in grid}
    floor.dock_id = ok(
        client.post(
            f"{L}/warehouses/{w}/docks",
            headers=op,
            json={"code": "D1", "opens": "08:00", "closes": "18:00"},
        ),
        201,
    )["id"]
    return floor


def local(day_offset: int, hhmm: str) -> str:
    """An ISO instant at a Seoul wall-clock time, `day_offset` days from today."""
    day = datetime.now(SEOUL).date() + timedelta(days=day_offset)
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SEOUL).isoformat()


def item(client: TestClient, headers: dict[str, str], sku: str, **extra: Any) -> int:
    body = {
        "sku": sku,
        "name": f"Item {sku}",
        "length_mm": 400,
        "width_mm": 300,
        "height_mm": 200,
        "weight_kg": 5.0,
        **extra,
    }
    return int(ok(client.post(f"{L}/items", headers=headers, json=body), 201)["id"])
