"""Every protected route, called as anonymous, as another company, as the owner and as the
operator. A new route fails `test_every_route_is_in_the_matrix` until it is added here."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, VALID_BRNS, World
from sandan.core.context import Context
from sharing.sharing_world import add_company_c

CALLERS = {"anonymous": "anonymous", "other": "admin_b", "owner": "admin_a", "operator": "operator"}
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: tuple[int, int, int, int]  # anonymous, other company, owner, operator
    body: dict[str, Any] | None = None
    leak_key: str | None = None  # list routes: the field that must never be company A's
    params: dict[str, Any] | None = None


def _ids(w: World) -> dict[str, int]:
    return {
        "company_id": w.companies["A"],
        "site_id": w.sites["A"],
        "asset_id": w.machines["A"],
        "device_id": w.devices["A"],
        "tag_id": w.tags["A"],
        "contact_id": w.contacts["A"],
        "user_id": w.users["member_a"],
        "token_id": w.token_ids["admin_a"],
        "complex_id": w.complex_id,
        "zone_id": w.zones["Z1"],
        "run_id": w.import_run,
        "line": w.lines["A"],
        "machine_id": w.machines["A"],
        "letter_id": w.dead_letters.get("A", 1),
        "line_id": w.lines["A"],
        "event_id": DOWNTIME.get("A", 1),
        **SHARED,
    }


DOWNTIME: dict[str, int] = {}  # a downtime event of each company, found by `readings`
SHARED: dict[str, Any] = {"period": f"{datetime.now(UTC):%Y-%m}"}  # filled by `shared`
S = "/api/v1/sharing"
NO_PARTNER = "http://127.0.0.1:9"  # a connector address no test registers as a partner


R, W = (401, 200, 200, 200), (401, 404, 200, 200)
CASES = [
    Case("GET", "/api/v1/auth/me", R),
    Case("GET", "/api/v1/users", R, leak_key="company_id"),
    Case(
        "POST",
        "/api/v1/users",
        (401, 403, 201, 201),
        {
            "email": "new@a.example",
            "name": "New",
            "password": "long-enough-pw",
            "role": "company_member",
            "company_id": "{company_id}",
        },
    ),
    Case("GET", "/api/v1/users/{user_id}", W),
    Case("PATCH", "/api/v1/users/{user_id}", W, {"name": "Renamed"}),
    Case("GET", "/api/v1/tokens", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/tokens", (401, 201, 201, 201), {"name": "t", "scopes": ["registry:read"]}
    ),
    Case("DELETE", "/api/v1/tokens/{token_id}", W),
    Case("GET", "/api/v1/overview", R),
    Case("GET", "/api/v1/complexes", R),
    Case(
        "POST",
        "/api/v1/complexes",
        (401, 403, 403, 201),
        {
            "code": "SPOKE",
            "name": "김천",
            "kind": "spoke",
            "hub_id": "{complex_id}",
            "center_lat": 36.1,
            "center_lon": 128.1,
        },
    ),
    Case("GET", "/api/v1/complexes/{complex_id}", R),
    Case("PATCH", "/api/v1/complexes/{complex_id}", (401, 403, 403, 200), {"name_en": "Gumi NIC"}),
    Case("GET", "/api/v1/zones", R),
    Case(
        "POST",
        "/api/v1/zones",
        (401, 403, 403, 201),
        {"complex_id": "{complex_id}", "code": "Z9", "name": "9단지"},
    ),
    Case("GET", "/api/v1/zones/{zone_id}", R),
    Case("PATCH", "/api/v1/zones/{zone_id}", (401, 403, 403, 200), {"name_en": "Zone One"}),
    Case("GET", "/api/v1/companies", R, leak_key="id"),
    Case(
        "POST",
        "/api/v1/companies",
        (401, 403, 403, 201),
        {"brn": "305-86-12346", "name": "신규(주)", "ksic": "C29", "zone_id": "{zone_id}"},
    ),
    Case("GET", "/api/v1/companies/{company_id}", W),
    Case("PATCH", "/api/v1/companies/{company_id}", W, {"address": "구미시 1공단로 1"}),
    Case("GET", "/api/v1/companies/{company_id}/asset-tree", W),
    Case("GET", "/api/v1/companies/{company_id}/contacts", W),
    Case(
        "POST", "/api/v1/companies/{company_id}/contacts", (401, 404, 201, 201), {"name": "홍길동"}
    ),
    Case("PATCH", "/api/v1/contacts/{contact_id}", W, {"phone": "054-111-2222"}),
    Case("DELETE", "/api/v1/contacts/{contact_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/sites", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/sites", (401, 404, 201, 201), {"company_id": "{company_id}", "name": "P2"}
    ),
    Case("GET", "/api/v1/sites/{site_id}", W),
    Case("PATCH", "/api/v1/sites/{site_id}", W, {"name": "Plant 1"}),
    Case("DELETE", "/api/v1/sites/{site_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/assets", R, leak_key="company_id"),
    Case(
        "POST",
        "/api/v1/assets",
        (401, 404, 201, 201),
        {
            "site_id": "{site_id}",
            "parent_id": "{line}",
            "level": "machine",
            "code": "M99",
            "name": "Press",
        },
    ),
    Case("GET", "/api/v1/assets/{asset_id}", W),
    Case("PATCH", "/api/v1/assets/{asset_id}", W, {"name": "CNC One"}),
    Case("DELETE", "/api/v1/assets/{asset_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/devices", R, leak_key="company_id"),
    Case("POST", "/api/v1/devices", (401, 404, 201, 201), {"site_id": "{site_id}", "name": "gw2"}),
    Case("GET", "/api/v1/devices/{device_id}", W),
    Case("PATCH", "/api/v1/devices/{device_id}", W, {"enabled": False}),
    Case("DELETE", "/api/v1/devices/{device_id}", (401, 404, 204, 204)),
    Case("POST", "/api/v1/devices/{device_id}/credentials", (401, 404, 201, 201)),
    Case("GET", "/api/v1/tags", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/tags", (401, 404, 201, 201), {"device_id": "{device_id}", "name": "temp"}
    ),
    Case("GET", "/api/v1/tags/{tag_id}", W),
    Case("PATCH", "/api/v1/tags/{tag_id}", W, {"unit": "1/min"}),
    Case("DELETE", "/api/v1/tags/{tag_id}", (401, 404, 204, 204)),
    Case("POST", "/api/v1/import/companies", (401, 403, 403, 200)),
    Case("GET", "/api/v1/import/runs/{run_id}", (401, 403, 403, 200)),
    Case(
        "POST",
        "/api/v1/telemetry/readings",
        W,
        {"tag": ["spindle_speed"], "ts": ["{now}"], "value": [6000]},
        params={"device_id": "{device_id}"},
    ),
    Case("GET", "/api/v1/telemetry/latest", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/raw", R, params={"tag_id": "{tag_id}"}),
    Case(
        "GET",
        "/api/v1/telemetry/stream",
        (401, 404, 200, 200),
        params={"tag_id": "{tag_id}", "seconds": 1},
    ),
    Case("GET", "/api/v1/telemetry/rollups", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/series", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/gaps", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/quality", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/export.parquet", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/dead-letters", R, leak_key="company_id"),
    Case("POST", "/api/v1/telemetry/dead-letters/{letter_id}/replay", W),
    Case("POST", "/api/v1/telemetry/readings.csv", W, params={"device_id": "{device_id}"}),
    Case("GET", "/api/v1/analytics/machines/{machine_id}/oee", W),
    Case("GET", "/api/v1/analytics/companies/{company_id}/oee", W, params={"group_by": "day"}),
    Case("GET", "/api/v1/analytics/lines/{line_id}/oee", W, params={"group_by": "machine"}),
    Case("GET", "/api/v1/analytics/companies/{company_id}/downtime", W),
    Case("GET", "/api/v1/analytics/machines/{machine_id}/downtime", W),
    Case(
        "PATCH",
        "/api/v1/analytics/downtime/{event_id}",
        W,
        {"reason": "breakdown_electrical", "note": "fuse"},
    ),
    Case("GET", "/api/v1/analytics/downtime-reasons", R),
    Case("GET", f"{S}/purposes", R),
    Case("GET", f"{S}/offers", R, leak_key="company_id"),
    Case("GET", f"{S}/catalog", R),
    Case("GET", f"{S}/benchmarks", R),
    # a company's own percentile: another company is told it does not exist
    Case("GET", f"{S}/benchmarks/position", W, params={"company_id": "{company_id}"}),
    Case(
        "POST",
        f"{S}/offers",
        (401, 201, 201, 201),
        {
            "company_id": "{company_id}",
            "title": "Daily OEE",
            "selection": {"type": "product", "product": "daily_oee"},
            "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
        },
    ),
    Case("GET", f"{S}/offers/{{offer_id}}", W),
    Case("POST", f"{S}/offers/{{offer_id}}/withdraw", W),
    Case(
        "POST",
        f"{S}/negotiations",
        (401, 404, 422, 403),
        {"offer_id": "{offer_id}", "purpose": "quality_improvement"},
    ),
    Case("GET", f"{S}/negotiations", R, leak_key="provider_company_id"),
    Case("GET", f"{S}/negotiations/{{negotiation_id}}", W),
    Case(
        "POST",
        f"{S}/negotiations/{{negotiation_id}}/counter",
        (401, 404, 200, 409),
        {"policy": {"uid": "urn:p:2", "permissions": [{"action": "use"}]}},
    ),
    Case("POST", f"{S}/negotiations/{{negotiation_id}}/accept", (401, 404, 200, 409), {}),
    Case("POST", f"{S}/negotiations/{{negotiation_id}}/terminate", (401, 404, 200, 409), {}),
    Case("GET", f"{S}/agreements", R, leak_key="provider_company_id"),
    Case("GET", f"{S}/agreements/{{agreement_id}}", W),
    Case("GET", f"{S}/agreements/{{agreement_id}}/verify", W),
    Case("GET", f"{S}/agreements/{{agreement_id}}/document", W),
    Case("POST", f"{S}/agreements/{{agreement_id}}/terminate", W, {"note": "end"}),
    Case("POST", f"{S}/agreements/{{agreement_id}}/token", (401, 404, 403, 403)),
    Case("POST", f"{S}/token/refresh", (401, 401, 401, 401), {"refresh_token": "x" * 40}),
    Case(
        "GET",
        f"{S}/agreements/{{agreement_id}}/data",
        (401, 401, 401, 401),
        params={"start": "{now}", "end": "{now}", "purpose": "quality_improvement"},
    ),
    Case(
        "GET",
        f"{S}/agreements/{{agreement_id}}/stream",
        (401, 401, 401, 401),
        params={"purpose": "quality_improvement"},
    ),
    Case("GET", f"{S}/companies/{{company_id}}/usage", W),
    Case("GET", f"{S}/companies/{{company_id}}/balance", W),
    Case("GET", f"{S}/companies/{{company_id}}/statements/{{period}}", W),
    Case("POST", f"{S}/settlements/{{period}}", (401, 403, 403, 200)),
    # A partner complex's connector: none is registered here, so a company is told so (422);
    # operators do not negotiate or pull for a company (403).
    Case("GET", f"{S}/remote/catalog", (401, 422, 422, 422), params={"connector_url": NO_PARTNER}),
    Case(
        "POST",
        f"{S}/remote/negotiations",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER, "offer_id": "1", "purpose": "quality_improvement"},
    ),
    Case(
        "POST",
        f"{S}/remote/negotiations/{{negotiation_id}}/finalize",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER},
    ),
    Case(
        "POST",
        f"{S}/remote/transfers",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER, "agreement_id": "urn:sandan:agreement:x"},
    ),
    Case(
        "POST",
        f"{S}/remote/pull",
        (401, 422, 422, 403),
        {
            "connector_url": NO_PARTNER,
            "agreement_id": "urn:sandan:agreement:x",
            "start": "{now}",
            "end": "{now}",
            "purpose": "quality_improvement",
        },
    ),
    Case("GET", "/api/v1/audit", (401, 403, 403, 200)),
    Case("GET", "/api/v1/audit/verify", (401, 403, 403, 200)),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if value == "{now}":
        return datetime.now(UTC).isoformat()
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def call(client: TestClient, world: World, case: Case, who: str) -> Any:
    ids = _ids(world)
    path = case.path.format(**ids)
    if who != "anonymous":  # a real web login: session cookie, like a browser
        login = client.post(
            "/api/v1/auth/login", json={"email": f"{who}@test.example", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
    kwargs: dict[str, Any] = {}
    if case.path == "/api/v1/import/companies":
        csv_text = "brn,name,ksic,zone\n3058612346,신규,26110,Z1\n"
        kwargs["files"] = {"file": ("c.csv", csv_text.encode(), "text/csv")}
    elif case.path == "/api/v1/telemetry/readings.csv":
        kwargs["content"] = f"tag,ts,value\nspindle_speed,{datetime.now(UTC).isoformat()},6000\n"
        kwargs["headers"] = {"Content-Type": "text/csv"}
    elif case.body is not None:
        kwargs["json"] = _fill(case.body, ids)
    if case.params is not None:
        kwargs["params"] = _fill(case.params, ids)
    return client.request(case.method, path, **kwargs)


@pytest.fixture
def readings(client: TestClient, world: World) -> None:
    """A reading and a rejected one on each company's device, sent with its own device key."""
    for key in ("A", "B"):
        state = client.post(
            "/api/v1/tags",
            headers=world.headers("operator"),
            json={
                "device_id": world.devices[key],
                "name": "state",
                "data_type": "int",
                "range_min": 0,
                "range_max": 4,
            },
        )
        assert state.status_code == 201, state.text
        made = client.post(
            f"/api/v1/devices/{world.devices[key]}/credentials", headers=world.headers("operator")
        )
        device_key = {"Authorization": f"Bearer {made.json()['token']}"}
        sent = client.post(
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["spindle_speed", "nope"],
                "ts": [datetime.now(UTC).isoformat()] * 2,
                "value": [5000, 1],
            },
        )
        assert sent.status_code == 200 and sent.json()["stored"] == 1, sent.text
        world.dead_letters[key] = sent.json()["dead_letter_id"]
        running = client.post(
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["state", "state"],
                "value": [1, 2],
                "ts": [(datetime.now(UTC) - timedelta(minutes=m)).isoformat() for m in (14, 4)],
            },
        )
        assert running.json()["stored"] == 2, running.text
        broke = client.post(  # a 10-minute breakdown three hours ago: a downtime event
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["state", "state"],
                "value": [3, 1],
                "ts": [(datetime.now(UTC) - timedelta(minutes=m)).isoformat() for m in (180, 170)],
            },
        )
        assert broke.json()["stored"] == 2, broke.text
        found = client.get(
            f"/api/v1/analytics/machines/{world.machines[key]}/downtime",
            headers=world.headers("operator"),
        )
        DOWNTIME[key] = found.json()["items"][0]["id"]


@pytest.fixture
def shared(client: TestClient, ctx: Context, world: World) -> None:
    """An offer of company A seen only by a third company C, which asked for it twice: one
    request waits for A (manual approval), one was signed (the offer's own terms)."""
    add_company_c(ctx, world)
    c = world.headers("admin_c")
    only_c = {
        "uid": "urn:p:c",
        "permissions": [
            {
                "action": "use",
                "constraints": [
                    {"left": "recipient", "operator": "eq", "right": world.companies["C"]}
                ],
            }
        ],
    }
    made = {}
    for approval in ("manual", "auto"):
        offer = client.post(
            f"{S}/offers",
            headers=world.headers("admin_a"),
            json={
                "title": f"Line OEE ({approval})",
                "selection": {"type": "product", "product": "daily_oee"},
                "access_policy": only_c,
                "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
                "approval": approval,
            },
        )
        assert offer.status_code == 201, offer.text
        asked = client.post(
            f"{S}/negotiations",
            headers=c,
            json={"offer_id": offer.json()["id"], "purpose": "quality_improvement"},
        )
        assert asked.status_code == 201, asked.text
        made[approval] = (offer.json()["id"], asked.json())
    SHARED["offer_id"] = made["manual"][0]
    SHARED["negotiation_id"] = made["manual"][1]["id"]
    SHARED["agreement_id"] = made["auto"][1]["agreement_id"]


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    """Routes and matrix agree: nothing protected goes untested."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, ops in paths.items()
        for method in ops
        if path.startswith("/api/")
    }
    covered = {(c.method, c.path) for c in CASES} | PUBLIC
    assert routes - covered == set(), "add these routes to the authorization matrix"
    assert {(c.method, c.path) for c in CASES} <= routes


@pytest.mark.auth
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_as_each_caller(
    client: TestClient, world: World, readings: None, shared: None, case: Case, caller: str
) -> None:
    """The answer each kind of caller gets, and no row of company A for another company."""
    expected = case.expect[list(CALLERS).index(caller)]
    response = call(client, world, case, CALLERS[caller])
    assert response.status_code == expected, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] and body["detail"]
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/stream":
        assert f'"tag_id":{world.tags["A"]}' in response.text  # the snapshot
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/latest":
        assert [r["tag_id"] for r in response.json()] == [world.tags["A"]]
    if caller in ("owner", "operator") and case.path.endswith("/machines/{machine_id}/oee"):
        oee = response.json()  # 10 min running, then 4 min idle, within the last hour
        assert abs(oee["seconds_in_state"]["1"] - 600) < 1 and oee["availability"] > 0.6
    if caller in ("owner", "operator") and case.path.endswith("/{company_id}/oee"):
        total = response.json()["total"]  # and before: down 10 min, then running 15 (held)
        assert total["seconds_in_state"]["1"] == 1500 and total["seconds_in_state"]["3"] == 600
    if caller in ("owner", "operator") and case.path.endswith("/downtime"):
        (event,) = response.json()["items"]
        assert (event["id"], event["state_name"]) == (DOWNTIME["A"], "down")
    if caller in ("owner", "operator") and case.method == "PATCH" and "downtime" in case.path:
        assert response.json()["reason"] == "breakdown_electrical"
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/export.parquet":
        assert pq.read_table(io.BytesIO(response.content)).num_rows == 1
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/quality":
        assert [(r["tag_id"], r["received"]) for r in response.json()] == [(world.tags["A"], 1)]
    if caller == "other" and response.status_code == 200:
        text = response.text
        assert f'"brn":"{VALID_BRNS["A"]}"' not in text
        if case.leak_key is not None:
            body = response.json()
            items = body["items"] if isinstance(body, dict) else body
            leaked = [item for item in items if item.get(case.leak_key) == world.companies["A"]]
            assert leaked == []
        if case.path in (
            "/api/v1/telemetry/latest",
            "/api/v1/telemetry/raw",
            "/api/v1/telemetry/rollups",
            "/api/v1/telemetry/series",
            "/api/v1/telemetry/gaps",
            "/api/v1/telemetry/quality",
        ):
            assert response.json() == []  # company A's readings stay with company A
        if case.path == "/api/v1/telemetry/export.parquet":
            assert pq.read_table(io.BytesIO(response.content)).num_rows == 0
        if case.path == "/api/v1/overview":
            assert {f["id"] for f in response.json()["footprints"]} == {world.companies["B"]}
