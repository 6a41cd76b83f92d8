"""Alarms from real ingest: readings POSTed to /api/v1/telemetry/readings with a device key
raise, clear, gate, suppress and latch alarms in the same transaction, and the evaluator's
state survives between requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service

ALARMS = "/api/v1/safety/alarms"
DEFS = "/api/v1/safety/alarm-definitions"


@pytest.fixture
def plant(client: TestClient, ctx: Context, world: World) -> dict[str, Any]:
    """Company A's device gets gas, fan and plant-state tags; a device key sends readings."""
    system = Principal.system("test")
    tags = {}
    with ctx.db.unit(system) as s:
        for name in ("gas_ppm", "fan", "plant_state", "chatter_a", "chatter_b"):
            tag = service.create_tag(
                s, system, schemas.TagIn(device_id=world.devices["A"], name=name)
            )
            tags[name] = tag.id
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    return {"tags": tags, "key": {"Authorization": f"Bearer {made.json()['token']}"}}


def send(
    client: TestClient, plant: dict[str, Any], readings: list[tuple[str, float, float]]
) -> None:
    """(tag, seconds ago, value) readings in one request."""
    now = datetime.now(UTC)
    body = {
        "tag": [t for t, _, _ in readings],
        "ts": [(now - timedelta(seconds=ago)).isoformat() for _, ago, _ in readings],
        "value": [v for _, _, v in readings],
    }
    sent = client.post("/api/v1/telemetry/readings", headers=plant["key"], json=body)
    assert sent.status_code == 200 and sent.json()["rejected"] == 0, sent.text


def define(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    made = client.post(DEFS, headers=world.headers("safety"), json=fields)
    assert made.status_code == 201, made.text
    return made.json()


def alarms(
    client: TestClient, world: World, who: str = "safety", **params: Any
) -> list[dict[str, Any]]:
    got = client.get(ALARMS, headers=world.headers(who), params=params)
    assert got.status_code == 200, got.text
    return got.json()["items"]


def test_a_reading_raises_an_alarm_the_operator_acknowledges(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    gas = plant["tags"]["gas_ppm"]
    d = define(
        client, world, tag_id=gas, name="Gas A1", kind="gas", priority="critical", h=10, hh=50
    )
    send(client, plant, [("gas_ppm", 20, 5.0), ("gas_ppm", 10, 12.0)])
    (alarm,) = alarms(client, world)
    assert (alarm["source"], alarm["condition"]) == (f"tag:{gas}", f"H#{d['id']}")
    assert alarm["state"] == "unacknowledged" and alarm["value"] == 12.0
    assert alarm["kind"] == "gas" and alarm["priority"] == "critical"
    assert alarm["company_id"] == world.companies["A"]
    assert [a["id"] for a in alarms(client, world, "admin_a")] == [alarm["id"]]
    assert alarms(client, world, "admin_b") == []
    send(client, plant, [("gas_ppm", 5, 3.0)])
    assert alarms(client, world)[0]["state"] == "rtn_unacknowledged"
    acked = client.post(f"{ALARMS}/{alarm['id']}/ack", headers=world.headers("safety"), json={})
    assert acked.status_code == 200 and acked.json()["state"] == "normal"
    assert alarms(client, world) == []
    journal = client.get(f"{ALARMS}/{alarm['id']}/journal", headers=world.headers("admin_a")).json()
    assert [j["to_state"] for j in journal] == ["unacknowledged", "rtn_unacknowledged", "normal"]


def test_chattering_input_one_alarm_with_deadband_and_delay_many_without(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    tags = plant["tags"]
    define(client, world, tag_id=tags["chatter_a"], name="bare", h=50)
    define(client, world, tag_id=tags["chatter_b"], name="tuned", h=50, deadband=3, on_delay_s=3)
    wave = [50 + (1.5 if i % 2 else -1.5) for i in range(40)] + [60.0] * 5
    send(
        client,
        plant,
        [(t, 60 - i, v) for i, v in enumerate(wave) for t in ("chatter_a", "chatter_b")],
    )
    rows = alarms(client, world)
    by_name = {a["message"].split(":")[0]: a for a in rows}
    journals = {
        name: client.get(f"{ALARMS}/{a['id']}/journal", headers=world.headers("safety")).json()
        for name, a in by_name.items()
    }
    announced = {
        n: sum(j["to_state"] == "unacknowledged" for j in js) for n, js in journals.items()
    }
    assert announced["tuned"] == 1
    assert announced["bare"] == 20  # every upward crossing announced again


def test_gas_high_and_ventilation_off(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    tags = plant["tags"]
    when = {"all": [{"tag_id": tags["fan"], "op": "<", "value": 1}]}
    define(client, world, tag_id=tags["gas_ppm"], name="Gas, fan off", h=10, when=when)
    send(client, plant, [("fan", 30, 1.0), ("gas_ppm", 29, 20.0)])
    assert alarms(client, world) == []  # the fan runs
    send(client, plant, [("fan", 20, 0.0), ("gas_ppm", 19, 21.0)])
    (alarm,) = alarms(client, world)
    assert alarm["state"] == "unacknowledged"
    send(client, plant, [("fan", 10, 1.0), ("gas_ppm", 9, 22.0)])  # ventilation back
    assert alarms(client, world)[0]["state"] == "rtn_unacknowledged"


def test_suppressed_by_design_while_the_plant_is_in_planned_stop(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    tags = plant["tags"]
    stop = {"any": [{"tag_id": tags["plant_state"], "op": "==", "value": 4}]}
    define(client, world, tag_id=tags["gas_ppm"], name="Low flow", l=5, suppress_when=stop)
    send(client, plant, [("plant_state", 40, 4.0), ("gas_ppm", 39, 1.0)])
    (alarm,) = alarms(client, world)
    assert alarm["state"] == "suppressed"
    send(client, plant, [("plant_state", 20, 1.0), ("gas_ppm", 19, 1.0)])  # restarted, still low
    assert alarms(client, world)[0]["state"] == "unacknowledged"


def test_a_latched_alarm_stays_until_acknowledged_and_reset(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    define(client, world, tag_id=plant["tags"]["gas_ppm"], name="Gas trip", hh=100, latching=True)
    send(client, plant, [("gas_ppm", 30, 150.0), ("gas_ppm", 20, 10.0)])
    (alarm,) = alarms(client, world)
    assert alarm["state"] == "unacknowledged" and alarm["held"]
    ops = world.headers("safety")
    assert client.post(f"{ALARMS}/{alarm['id']}/reset", headers=ops, json={}).status_code == 409
    client.post(f"{ALARMS}/{alarm['id']}/ack", headers=ops, json={})
    reset = client.post(f"{ALARMS}/{alarm['id']}/reset", headers=ops, json={"note": "checked"})
    assert reset.status_code == 200 and reset.json()["state"] == "normal"


def test_the_on_delay_runs_across_requests(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    define(client, world, tag_id=plant["tags"]["gas_ppm"], name="Gas", h=10, on_delay_s=20)
    send(client, plant, [("gas_ppm", 60, 15.0), ("gas_ppm", 50, 16.0)])
    assert alarms(client, world) == []  # 10 s above: not yet
    send(client, plant, [("gas_ppm", 35, 17.0)])  # 25 s above, in a later request
    (alarm,) = alarms(client, world)
    assert alarm["value"] == 17.0


def test_bad_definitions_are_refused_naming_the_field(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    gas = plant["tags"]["gas_ppm"]
    ops = world.headers("safety")
    cases = [
        ({"tag_id": gas, "name": "x", "h": 10, "hh": 5}, "hh"),
        ({"tag_id": gas, "name": "x"}, "h"),
        ({"tag_id": gas, "name": "x", "h": 1, "deadband": -1}, "deadband"),
        (
            {
                "tag_id": gas,
                "name": "x",
                "h": 1,
                "when": {"all": [{"tag_id": 999999, "op": "<", "value": 1}]},
            },
            "when",
        ),
        ({"tag_id": gas, "name": "x", "h": 1, "when": {"all": [], "any": []}}, "when"),
        ({"tag_id": world.tags["B"], "name": "x", "h": 1, "priority": "urgent"}, "priority"),
        ({"tag_id": 999999, "name": "x", "h": 1}, "tag_id"),
    ]
    for body, field in cases:
        got = client.post(DEFS, headers=ops, json=body)
        assert got.status_code == 422, (body, got.text)
        assert any(f["field"].startswith(field) for f in got.json()["fields"]), (body, got.text)


def test_changing_or_disabling_a_definition(
    client: TestClient, world: World, plant: dict[str, Any]
) -> None:
    d = define(client, world, tag_id=plant["tags"]["gas_ppm"], name="Gas", h=10)
    send(client, plant, [("gas_ppm", 30, 20.0)])
    ops = world.headers("safety")
    oos = client.patch(f"{DEFS}/{d['id']}", headers=ops, json={"in_service": False})
    assert oos.status_code == 200
    assert alarms(client, world)[0]["state"] == "out_of_service"
    client.patch(f"{DEFS}/{d['id']}", headers=ops, json={"in_service": True})
    assert alarms(client, world)[0]["state"] == "unacknowledged"
    raised = client.patch(f"{DEFS}/{d['id']}", headers=ops, json={"h": 30})
    assert raised.status_code == 200 and alarms(client, world)[0]["state"] == "rtn_unacknowledged"
    send(client, plant, [("gas_ppm", 20, 20.0)])  # below the new limit: nothing new
    assert alarms(client, world)[0]["state"] == "rtn_unacknowledged"
    off = client.patch(f"{DEFS}/{d['id']}", headers=ops, json={"enabled": False})
    assert off.status_code == 200 and alarms(client, world) == []
    assert client.delete(f"{DEFS}/{d['id']}", headers=ops).status_code == 204
    assert len(alarms(client, world, active_only="false")) == 1  # history stays
