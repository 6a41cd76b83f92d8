"""Helpers of the hazard register tests: a register for companies A and B of the test world,
placed around a point so the distances are known."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarms

API = "/api/v1/safety"
# A point between the two companies' premises (A's centre 36.0605/128.3105, B's 128.3605).
SPILL = (36.0605, 128.3200)


def post(client: TestClient, world: World, who: str, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"{API}{path}", json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text
    return response.json()


def seed_register(client: TestClient, world: World) -> dict[str, int]:
    """A: an HF tank 100 m east of SPILL and an ammonia tank; B: a chlorine cabinet 1.5 km
    east of SPILL. Each company has an emergency contact; written by each company's admin."""
    ids: dict[str, int] = {}
    tank = post(
        client,
        world,
        "admin_a",
        "/hazards/facilities",
        {
            "company_id": world.companies["A"],
            "name": "HF tank T-1",
            "kind": "storage_tank",
            "site_id": world.sites["A"],
            "lat": SPILL[0],
            "lon": SPILL[1] + 0.00111,  # ~100 m east
        },
    )
    ids["facility_a"] = tank["id"]
    ids["material_a"] = post(
        client,
        world,
        "admin_a",
        "/hazards/materials",
        {
            "facility_id": tank["id"],
            "name": "불산 (hydrofluoric acid 55%)",
            "cas": "7664-39-3",
            "quantity": 12.5,
            "unit": "t",
            "max_quantity": 20,
            "hazard_classes": ["GHS06", "GHS05", "H300", "H310", "H330", "H314"],
        },
    )["id"]
    ids["material_a2"] = post(
        client,
        world,
        "admin_a",
        "/hazards/materials",
        {"facility_id": tank["id"], "name": "암모니아", "cas": "7664417", "quantity": 800},
    )["id"]
    ids["contact_a"] = post(
        client,
        world,
        "admin_a",
        "/hazards/contacts",
        {
            "company_id": world.companies["A"],
            "name": "김안전",
            "role": "안전관리자",
            "phone": "010-1234-5678",
            "call_order": 1,
        },
    )["id"]
    cabinet = post(
        client,
        world,
        "admin_b",
        "/hazards/facilities",
        {
            "company_id": world.companies["B"],
            "name": "Cl2 gas cabinet",
            "kind": "gas_cabinet",
            "lat": SPILL[0],
            "lon": SPILL[1] + 0.01665,  # ~1.5 km east
        },
    )
    ids["facility_b"] = cabinet["id"]
    ids["material_b"] = post(
        client,
        world,
        "admin_b",
        "/hazards/materials",
        {"facility_id": cabinet["id"], "name": "염소", "cas": "7782-50-5", "quantity": 400},
    )["id"]
    ids["contact_b"] = post(
        client,
        world,
        "admin_b",
        "/hazards/contacts",
        {"company_id": world.companies["B"], "name": "박비상", "phone": "010-9999-0000"},
    )["id"]
    return ids


def raise_alarms(ctx: Context, world: World, n: int) -> list[int]:
    """`n` real gas alarms of company A near SPILL, raised through the alarm engine."""
    ids = []
    with ctx.db.unit(Principal.system("test-alarms")) as s:
        for i in range(n):
            alarm = alarms.raise_external(
                s,
                source=f"test:gas-{i}",
                condition="HIGH",
                priority="high",
                message=f"HF 감지기 {i + 1} 고농도 (HF detector {i + 1} high)",
                company_id=world.companies["A"],
                lat=SPILL[0],
                lon=SPILL[1] + 0.001,
                at=datetime.now(UTC),
                kind="gas",
            )
            ids.append(alarm.id)
    return ids
