"""Who lies within a radius of a point: nearest first, with materials and contacts; only the
safety duties may ask, and every answer is in the audit log under each company found."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hazard_world import API, SPILL, seed_register
from sqlalchemy import select

from conftest import World
from sandan.core.audit.models import AuditEntry
from sandan.core.context import Context
from sandan.core.errors import PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.safety.register.geo import haversine_m
from sandan.safety.register.service import affected_companies


def _affected(client: TestClient, world: World, who: str, radius: float) -> list[dict]:  # type: ignore[type-arg]
    response = client.get(
        f"{API}/hazards/affected",
        params={"lat": SPILL[0], "lon": SPILL[1], "radius_m": radius},
        headers=world.headers(who),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_haversine_matches_known_distances() -> None:
    # one degree of latitude is ~111.2 km on the mean sphere; Gumi to Daegu is ~40 km
    assert haversine_m(36.0, 128.0, [37.0], [128.0])[0] == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(36.12, 128.34, [35.87], [128.60])[0] == pytest.approx(36_300, rel=0.02)
    assert haversine_m(36.0, 128.0, [36.0], [128.0])[0] == 0


def test_nearest_first_with_materials_and_contacts(client: TestClient, world: World) -> None:
    seed_register(client, world)
    a, b = world.companies["A"], world.companies["B"]
    found = _affected(client, world, "safety", 2000)
    assert [c["company_id"] for c in found] == [a, b]
    first, second = found
    assert first["distance_m"] == pytest.approx(100, abs=2)  # the HF tank, not A's premises
    assert first["nearest"] == "facility: HF tank T-1"
    assert {m["cas"] for m in first["materials"]} == {"7664-39-3", "7664-41-7"}
    assert [c["name"] for c in first["contacts"]] == ["김안전"]
    assert second["distance_m"] == pytest.approx(1500, abs=10)
    assert [m["cas"] for m in second["materials"]] == ["7782-50-5"]
    # a smaller circle leaves B out; one that reaches nobody is empty
    assert [c["company_id"] for c in _affected(client, world, "operator", 1000)] == [a]
    assert _affected(client, world, "operator", 50) == []


def test_premises_count_without_a_register(client: TestClient, world: World) -> None:
    """A company without facilities is still found by its premises (footprint centre)."""
    found = _affected(client, world, "safety", 1000)
    assert [(c["company_id"], c["nearest"]) for c in found] == [(world.companies["A"], "premises")]
    assert found[0]["distance_m"] == pytest.approx(855, abs=10)
    assert found[0]["materials"] == [] and found[0]["contacts"] == []


def test_only_safety_duties_may_ask(client: TestClient, world: World) -> None:
    for who, status in (("admin_a", 403), ("member_b", 403), ("auditor", 403), ("anonymous", 401)):
        response = client.get(
            f"{API}/hazards/affected",
            params={"lat": SPILL[0], "lon": SPILL[1], "radius_m": 500},
            headers=world.headers(who),
        )
        assert response.status_code == status, who
    bad = client.get(
        f"{API}/hazards/affected",
        params={"lat": SPILL[0], "lon": SPILL[1], "radius_m": 0},
        headers=world.headers("safety"),
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "radius_m"


def test_every_call_is_audited_per_company(client: TestClient, ctx: Context, world: World) -> None:
    seed_register(client, world)
    _affected(client, world, "safety", 2000)
    _affected(client, world, "safety", 10)
    with ctx.db.unit() as s:
        rows = s.execute(
            select(AuditEntry.company_id, AuditEntry.actor, AuditEntry.after)
            .where(AuditEntry.entity == "safety_affected_companies")
            .order_by(AuditEntry.seq)
        ).all()
    assert [r.company_id for r in rows] == [world.companies["A"], world.companies["B"], None]
    assert all(
        r.actor == f"token:{world.token_ids['safety']}/user:{world.users['safety']}" for r in rows
    )
    assert rows[0].after["radius_m"] == 2000 and rows[2].after["radius_m"] == 10


def test_service_checks_its_caller_and_input(ctx: Context, world: World) -> None:
    admin = Principal.system("x")
    with ctx.db.unit(admin) as s, pytest.raises(ValidationFailed):
        affected_companies(s, admin, SPILL[0], SPILL[1], 60_000)
    with ctx.db.unit() as s:
        member = Principal(kind="user", name="m", company_id=world.companies["A"])
        with pytest.raises(PermissionDenied):
            affected_companies(s, member, SPILL[0], SPILL[1], 100)
