"""Registry API contracts: filtering, pagination, validation errors, ISA-95 rules, duty roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import PASSWORD, World, square
from sandan.migrate import head_revision
from sandan.registry.validators import brn_check_digit


def test_validation_errors_name_the_field(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/companies",
        headers=world.headers("operator"),
        json={
            "brn": "123-45-67890",
            "name": "x",
            "ksic": "00999",
            "zone_id": world.zones["Z1"],
            "footprint": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
        },
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "ValidationFailed"
    fields = {f["field"]: f["reason"] for f in body["fields"]}
    assert fields["brn"] == "check digit does not match"
    assert "unknown KSIC division" in fields["ksic"]
    assert "at least 4 positions" in fields["footprint"]


def test_duplicate_brn_is_a_conflict(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/companies",
        headers=world.headers("operator"),
        json={"brn": "124-81-00998", "name": "dup", "ksic": "26110", "zone_id": world.zones["Z1"]},
    )
    assert r.status_code == 409 and r.json()["field"] == "brn"


def test_filters_and_pagination(client: TestClient, world: World) -> None:
    h = world.headers("operator")
    for i in range(7):
        first = f"21486123{i}"
        brn = first + str(brn_check_digit(first))
        client.post(
            "/api/v1/companies",
            headers=h,
            json={
                "brn": brn,
                "name": f"필터{i}",
                "ksic": "29" if i % 2 else "28202",
                "zone_id": world.zones["Z2"],
                "footprint": square(128.36 + i * 0.002, 36.06),
            },
        )
    page = client.get("/api/v1/companies?limit=3&offset=0", headers=h).json()
    total = page["total"]
    assert len(page["items"]) == 3 and total >= 3
    rest = client.get(f"/api/v1/companies?limit=3&offset={total - 1}", headers=h).json()
    assert len(rest["items"]) == 1
    by_zone = client.get(f"/api/v1/companies?zone_id={world.zones['Z1']}", headers=h).json()
    assert {c["id"] for c in by_zone["items"]} == {world.companies["A"]}
    batteries = client.get("/api/v1/companies?ksic=C282", headers=h).json()
    assert batteries["items"] and all(c["ksic"].startswith("282") for c in batteries["items"])
    named = client.get("/api/v1/companies?q=회사A", headers=h).json()
    assert [c["id"] for c in named["items"]] == [world.companies["A"]]
    too_big = client.get("/api/v1/companies?limit=5000", headers=h)
    assert too_big.status_code == 422 and too_big.json()["fields"][0]["field"] == "limit"


def test_isa95_parent_rules(client: TestClient, world: World) -> None:
    h = world.headers("admin_a")
    bad = client.post(
        "/api/v1/assets",
        headers=h,
        json={
            "site_id": world.sites["A"],
            "parent_id": world.areas["A"],
            "level": "machine",
            "code": "MX",
            "name": "x",
        },
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "parent_id"
    foreign = client.post(
        "/api/v1/assets",
        headers=h,
        json={
            "site_id": world.sites["A"],
            "parent_id": world.lines["B"],
            "level": "machine",
            "code": "MX",
            "name": "x",
        },
    )
    assert foreign.status_code == 422
    cell = client.post(
        "/api/v1/assets",
        headers=h,
        json={
            "site_id": world.sites["A"],
            "parent_id": world.lines["A"],
            "level": "cell",
            "code": "C1",
            "name": "Cell",
        },
    )
    assert cell.status_code == 201
    machine = client.post(
        "/api/v1/assets",
        headers=h,
        json={
            "site_id": world.sites["A"],
            "parent_id": cell.json()["id"],
            "level": "machine",
            "code": "M02",
            "name": "Robot",
        },
    )
    assert machine.status_code == 201
    tree = client.get(f"/api/v1/companies/{world.companies['A']}/asset-tree", headers=h).json()
    area = tree[0]["children"][0]
    assert area["level"] == "area" and area["children"][0]["level"] == "line"
    labels = str(tree)
    assert "M01 · CNC 1 (1 tags)" in labels and "M02 · Robot" in labels


def test_tag_rules(client: TestClient, world: World) -> None:
    h = world.headers("admin_a")
    r = client.post(
        "/api/v1/tags",
        headers=h,
        json={"device_id": world.devices["A"], "name": "p", "range_min": 5, "range_max": 1},
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/tags", headers=h, json={"device_id": world.devices["A"], "name": "spindle_speed"}
    )
    assert r.status_code == 409
    r = client.post(
        "/api/v1/tags",
        headers=h,
        json={
            "device_id": world.devices["A"],
            "name": "power",
            "unit": "kW",
            "data_type": "float",
            "sampling_ms": 500,
        },
    )
    assert r.status_code == 201 and r.json()["machine_id"] == world.machines["A"]


def test_member_reads_but_cannot_write(client: TestClient, world: World) -> None:
    h = world.headers("member_a")
    assert client.get(f"/api/v1/sites/{world.sites['A']}", headers=h).status_code == 200
    r = client.patch(f"/api/v1/sites/{world.sites['A']}", headers=h, json={"name": "x"})
    assert r.status_code == 403 and r.json()["error"] == "PermissionDenied"


def test_duty_roles_read_across_companies_by_duty(client: TestClient, world: World) -> None:
    safety, logistics = world.headers("safety"), world.headers("logistics")
    assert client.get("/api/v1/companies", headers=safety).json()["total"] == 2
    assert client.get("/api/v1/tags", headers=safety).json()["total"] == 2
    assert client.get("/api/v1/companies", headers=logistics).json()["total"] == 2
    assert client.get("/api/v1/tags", headers=logistics).json()["total"] == 0
    assert client.get(f"/api/v1/devices/{world.devices['A']}", headers=logistics).status_code == 404
    r = client.patch(f"/api/v1/sites/{world.sites['A']}", headers=safety, json={"name": "x"})
    assert r.status_code == 403


def test_overview_counts_everyone_but_shows_only_own_footprints(
    client: TestClient, world: World
) -> None:
    member = client.get("/api/v1/overview", headers=world.headers("member_b")).json()
    assert member["companies_total"] == 2
    assert [z["count"] for z in member["by_zone"]] == [1, 1, 0, 0]
    assert [f["id"] for f in member["footprints"]] == [world.companies["B"]]
    operator = client.get("/api/v1/overview", headers=world.headers("operator")).json()
    assert len(operator["footprints"]) == 2


def test_ops_endpoints(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["schema"] == head_revision()
    client.get("/api/v1/companies")
    metrics = client.get("/metrics").text
    assert "sandan_http_requests_total" in metrics and 'route="/api/v1/companies"' in metrics
    assert client.get("/docs").status_code == 200
    assert "/api/v1/companies" in client.get("/openapi.json").json()["paths"]


def test_moving_a_device_moves_its_tags(client: TestClient, world: World) -> None:
    h = world.headers("admin_a")
    other = client.post(
        "/api/v1/assets",
        headers=h,
        json={
            "site_id": world.sites["A"],
            "parent_id": world.lines["A"],
            "level": "machine",
            "code": "M02",
            "name": "Press",
        },
    ).json()
    r = client.patch(
        f"/api/v1/devices/{world.devices['A']}", headers=h, json={"machine_id": other["id"]}
    )
    assert r.status_code == 200
    tag = client.get(f"/api/v1/tags/{world.tags['A']}", headers=h).json()
    assert tag["machine_id"] == other["id"]
    foreign = client.patch(
        f"/api/v1/devices/{world.devices['A']}", headers=h, json={"machine_id": world.machines["B"]}
    )
    assert foreign.status_code == 422 and foreign.json()["fields"][0]["field"] == "machine_id"


def test_site_marker_follows_its_footprint(client: TestClient, world: World) -> None:
    h = world.headers("admin_a")
    r = client.patch(
        f"/api/v1/sites/{world.sites['A']}",
        headers=h,
        json={"footprint": square(128.5, 36.2, 0.002)},
    )
    assert r.status_code == 200
    assert abs(r.json()["lat"] - 36.201) < 1e-6 and abs(r.json()["lon"] - 128.501) < 1e-6


def test_inactive_companies_leave_the_map(client: TestClient, world: World) -> None:
    h = world.headers("operator")
    client.patch(f"/api/v1/companies/{world.companies['B']}", headers=h, json={"active": False})
    overview = client.get("/api/v1/overview", headers=h).json()
    assert [f["id"] for f in overview["footprints"]] == [world.companies["A"]]
    assert overview["companies_total"] == 1


def test_members_edit_their_own_profile_only(client: TestClient, world: World) -> None:
    login = client.post(
        "/api/v1/auth/login", json={"email": "member_a@test.example", "password": PASSWORD}
    )
    assert login.status_code == 200
    me = client.patch(
        f"/api/v1/users/{world.users['member_a']}", json={"language": "en", "name": "Kim"}
    )
    assert me.status_code == 200 and me.json()["language"] == "en"
    promote = client.patch(
        f"/api/v1/users/{world.users['member_a']}", json={"role": "company_admin"}
    )
    assert promote.status_code == 403
    colleague = client.patch(f"/api/v1/users/{world.users['admin_a']}", json={"name": "x"})
    assert colleague.status_code == 404


def test_unknown_api_routes_answer_in_json(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/nothing-here", headers=world.headers("operator"))
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
