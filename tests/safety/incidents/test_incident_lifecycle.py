"""An incident's life through the API: opened from alarms by a safety operator, the affected
companies found around it, a task and notes, stable, closed with a summary; afterwards it is
read-only. Company users never see incidents."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import World
from safety.register.hazard_world import API, SPILL, raise_alarms, seed_register
from sandan.core.context import Context


def _open(client: TestClient, world: World, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "불산 누출 (HF leak) T-1",
        "kind": "chemical",
        "severity": "critical",
        "alarm_ids": [],
        "lat": SPILL[0],
        "lon": SPILL[1],
        "radius_m": 2000,
        "note": "가스 감지기 2개 동시 경보",
        **extra,
    }
    response = client.post(f"{API}/incidents", json=body, headers=world.headers("safety"))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _call(client: TestClient, world: World, method: str, path: str, **kw: Any) -> Any:
    response = client.request(method, f"{API}{path}", headers=world.headers("safety"), **kw)
    assert response.status_code < 300, response.text
    return response.json()


def test_open_work_and_close(client: TestClient, ctx: Context, world: World) -> None:
    seed_register(client, world)
    a1, a2, a3 = raise_alarms(ctx, world, 3)
    inc = _open(client, world, alarm_ids=[a1, a2, a1])
    assert (inc["status"], inc["severity"], inc["commander_id"]) == (
        "active",
        4,
        world.users["safety"],
    )
    n = f"/incidents/{inc['id']}"
    task = _call(
        client,
        world,
        "POST",
        f"{n}/tasks",
        json={"title": "주민 대피 안내", "assignee": "소방 1팀"},
    )
    _call(client, world, "POST", f"{n}/notes", json={"text": "중화제 투입 시작"})
    assert _call(client, world, "POST", f"{n}/alarms", json={"alarm_ids": [a2, a3]}) == [a3]
    _call(client, world, "POST", f"{n}/tasks/{task['id']}/done")
    stable = _call(
        client, world, "POST", f"{n}/status", json={"status": "stable", "note": "누출 차단"}
    )
    assert stable["status"] == "stable"
    detail = _call(client, world, "GET", n)
    assert [a["id"] for a in detail["alarms"]] == [a1, a2, a3]
    assert detail["alarms"][0]["text"].startswith("HF 감지기 1") and detail["alarms"][0]["priority"]
    assert detail["commander_name"] == "safety"
    assert [c["company_id"] for c in detail["affected"]] == [
        world.companies["A"],
        world.companies["B"],
    ]
    assert detail["affected"][0]["materials"][0]["cas"] == "7664-39-3"
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == [
        "opened",
        "alarm_linked",
        "alarm_linked",
        "task_added",
        "note",
        "alarm_linked",
        "task_done",
        "status_changed",
    ]
    assert detail["tasks"][0]["done"] is True
    closed = _call(
        client, world, "POST", f"{n}/close", json={"summary": "누출 차단, 인명 피해 없음"}
    )
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    for path, body in (
        ("/notes", {"text": "late"}),
        ("/status", {"status": "active"}),
        ("/close", {"summary": "again"}),
        ("/tasks", {"title": "late"}),
    ):
        late = client.post(f"{API}{n}{path}", json=body, headers=world.headers("safety"))
        assert late.status_code == 409, path
    assert _call(client, world, "GET", f"{n}")["timeline"][-1]["kind"] == "closed"


def test_lists_and_changes(client: TestClient, world: World) -> None:
    first = _open(client, world, alarm_ids=[])
    second = _open(client, world, title="화재", kind="fire", severity=2)
    _call(client, world, "POST", f"/incidents/{first['id']}/close", json={"summary": "오경보"})
    open_ids = [
        i["id"] for i in _call(client, world, "GET", "/incidents", params={"status": "open"})
    ]
    assert open_ids == [second["id"]]
    assert len(_call(client, world, "GET", "/incidents")) == 2
    changed = _call(
        client,
        world,
        "PATCH",
        f"/incidents/{second['id']}",
        json={"severity": "major", "radius_m": 300, "commander_id": world.users["operator"]},
    )
    assert (changed["severity"], changed["radius_m"], changed["commander_id"]) == (
        3,
        300,
        world.users["operator"],
    )
    timeline = _call(client, world, "GET", f"/incidents/{second['id']}")["timeline"]
    assert timeline[-1]["kind"] == "changed" and "severity: 2 → 3" in timeline[-1]["text"]
    again = client.post(
        f"{API}/incidents/{second['id']}/status",
        json={"status": "active"},
        headers=world.headers("safety"),
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"commander_id": "admin_a"}, "commander_id"),
        ({"severity": 5}, "severity"),
        ({"severity": "catastrophic"}, "severity"),
        ({"kind": "meteor"}, "kind"),
        ({"radius_m": 0}, "radius_m"),
        ({"lat": 91}, "lat"),
        ({"alarm_ids": [999999]}, "alarm_ids"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    if body.get("commander_id") == "admin_a":
        body = {"commander_id": world.users["admin_a"]}
    full = {
        "title": "x",
        "kind": "gas",
        "severity": 1,
        "lat": SPILL[0],
        "lon": SPILL[1],
        **body,
    }
    response = client.post(f"{API}/incidents", json=full, headers=world.headers("safety"))
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == field


def test_company_users_never_see_incidents(client: TestClient, world: World) -> None:
    inc = _open(client, world)
    for who in ("admin_a", "member_a", "auditor", "logistics"):
        h = world.headers(who)
        assert client.get(f"{API}/incidents", headers=h).status_code == 403
        assert client.get(f"{API}/incidents/{inc['id']}", headers=h).status_code == 403
    assert (
        client.get(f"{API}/incidents/999999", headers=world.headers("operator")).status_code == 404
    )
