"""The hazard register through the API: each company keeps its own, nobody else sees it,
the safety duties see and write all, and a wrong CAS number is refused naming `cas`."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hazard_world import API, SPILL, seed_register

from conftest import World


def _get(client: TestClient, world: World, who: str, path: str) -> object:
    response = client.get(f"{API}{path}", headers=world.headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_each_company_sees_only_its_own_register(client: TestClient, world: World) -> None:
    ids = seed_register(client, world)
    a, b = world.companies["A"], world.companies["B"]
    for who, expected in (
        ("admin_a", {a}),
        ("member_a", {a}),
        ("admin_b", {b}),
        ("safety", {a, b}),
        ("operator", {a, b}),
        ("auditor", {a, b}),
        ("logistics", set()),
    ):
        for kind in ("facilities", "materials", "contacts"):
            rows = _get(client, world, who, f"/hazards/{kind}")
            assert {r["company_id"] for r in rows} == expected, (who, kind)  # type: ignore[attr-defined]
    as_b = client.get(f"{API}/hazards/companies/{a}", headers=world.headers("admin_b"))
    assert as_b.status_code == 404
    patch_b = client.patch(
        f"{API}/hazards/materials/{ids['material_a']}",
        json={"quantity": 1},
        headers=world.headers("admin_b"),
    )
    assert patch_b.status_code == 404
    register = _get(client, world, "safety", f"/hazards/companies/{a}")
    assert [m["cas"] for m in register["materials"]] == ["7664-39-3", "7664-41-7"]  # type: ignore[index]
    assert register["contacts"][0]["name"] == "김안전"  # type: ignore[index]


def test_wrong_cas_is_a_422_naming_cas(client: TestClient, world: World) -> None:
    ids = seed_register(client, world)
    body = {"facility_id": ids["facility_a"], "name": "불산", "cas": "7664-39-4", "quantity": 1}
    response = client.post(f"{API}/hazards/materials", json=body, headers=world.headers("admin_a"))
    assert response.status_code == 422
    (field,) = response.json()["fields"]
    assert field["field"] == "cas" and "check digit" in field["reason"]
    patch = client.patch(
        f"{API}/hazards/materials/{ids['material_a']}",
        json={"cas": "12-34-5"},
        headers=world.headers("admin_a"),
    )
    assert patch.status_code == 422 and patch.json()["fields"][0]["field"] == "cas"


def test_writes_follow_the_duties(client: TestClient, world: World) -> None:
    ids = seed_register(client, world)
    a = world.companies["A"]
    contact = {"company_id": a, "name": "야간 당직", "phone": "054-000-1111", "call_order": 2}
    for who, status in (("member_a", 403), ("admin_b", 404), ("logistics", 403), ("safety", 201)):
        response = client.post(f"{API}/hazards/contacts", json=contact, headers=world.headers(who))
        assert response.status_code == status, (who, response.text)
    # the safety operator corrects a quantity of company A's register
    fixed = client.patch(
        f"{API}/hazards/materials/{ids['material_a']}",
        json={"quantity": 15},
        headers=world.headers("safety"),
    )
    assert fixed.status_code == 200 and fixed.json()["quantity"] == 15


def test_rules_of_a_material(client: TestClient, world: World) -> None:
    ids = seed_register(client, world)
    h = world.headers("admin_a")
    over = client.patch(
        f"{API}/hazards/materials/{ids['material_a']}", json={"quantity": 21}, headers=h
    )
    assert over.status_code == 422 and over.json()["fields"][0]["field"] == "quantity"
    foreign = client.patch(
        f"{API}/hazards/materials/{ids['material_a']}",
        json={"facility_id": ids["facility_b"]},
        headers=world.headers("operator"),
    )
    assert foreign.status_code == 422 and foreign.json()["fields"][0]["field"] == "facility_id"
    bad_class = client.post(
        f"{API}/hazards/materials",
        json={
            "facility_id": ids["facility_a"],
            "name": "x",
            "cas": "67-64-1",
            "quantity": 1,
            "hazard_classes": ["GHS99"],
        },
        headers=h,
    )
    assert (
        bad_class.status_code == 422 and bad_class.json()["fields"][0]["field"] == "hazard_classes"
    )
    other_site = client.post(
        f"{API}/hazards/facilities",
        json={
            "company_id": world.companies["A"],
            "name": "W",
            "kind": "warehouse",
            "site_id": world.sites["B"],
            "lat": SPILL[0],
            "lon": SPILL[1],
        },
        headers=world.headers("operator"),
    )
    assert other_site.status_code == 422 and other_site.json()["fields"][0]["field"] == "site_id"
    # removing a facility removes what is stored at it
    gone = client.delete(f"{API}/hazards/facilities/{ids['facility_a']}", headers=h)
    assert gone.status_code == 204
    assert _get(client, world, "admin_a", "/hazards/materials") == []


def test_shelters_and_routes_are_read_by_all_and_kept_by_safety(
    client: TestClient, world: World
) -> None:
    shelter = {
        "name": "구미 1단지 체육관",
        "kind": "shelter",
        "lat": 36.1,
        "lon": 128.39,
        "capacity": 800,
    }
    route = {
        "name": "1단지 북문 → 체육관",
        "zone": "Z1",
        "points": [[36.06, 128.31], [36.1, 128.39]],
    }
    for who, status in (("admin_a", 403), ("member_b", 403), ("safety", 201)):
        assert (
            client.post(f"{API}/shelters", json=shelter, headers=world.headers(who)).status_code
            == status
        )
        assert (
            client.post(
                f"{API}/evacuation-routes", json=route, headers=world.headers(who)
            ).status_code
            == status
        )
    for who in ("member_a", "admin_b", "logistics"):
        assert [s["name"] for s in _get(client, world, who, "/shelters")] == ["구미 1단지 체육관"]  # type: ignore[attr-defined]
        (r,) = _get(client, world, who, "/evacuation-routes")  # type: ignore[misc]
        assert r["points"] == [[36.06, 128.31], [36.1, 128.39]]
    bad = client.post(
        f"{API}/evacuation-routes",
        json={"name": "x", "points": [[128.31, 36.06], [128.39, 36.1]]},
        headers=world.headers("safety"),
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"].startswith("points")
