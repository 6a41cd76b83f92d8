"""Machine states from power thresholds, worked by hand, on both stores.

P1 has only a `power` tag and the rule idle 5 kW, run 20 kW, down below idle. One reading a
minute for two hours from 21:00 UTC (06:00 in Gumi):

  minutes   0-59   20.00 kW  running (exactly run_kw counts as running)   60 min
           60-69    5.00 kW  idle (exactly idle_kw counts as idle)        10 min
           70-89    4.99 kW  down (below idle)                             20 min
           90-92   19.99 kW  idle (3 min: a minor stop, not an event)       3 min
           93-119  40.00 kW  running                                       27 min

By hand: running 87 min = 5,220 s, idle 13 min = 780 s, down 20 min = 1,200 s; every minute
is planned busy time (the off state is down, not planned stop), so availability is
87 / 120 = 0.725. Energy: (60 x 20 + 10 x 5 + 20 x 4.99 + 3 x 19.99 + 27 x 40) / 60 =
2,489.77 / 60 = 41.49617 kWh. Downtime events (idle counts from 5 minutes): idle 60-70 and
down 70-90. With planned stop as the off state the 20 minutes leave the planned busy time:
availability 87 / 100.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from analytics_plant import MINUTE, add_line, add_machine, at, minutes_of, store_fixture  # noqa: F401
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World
from sandan.analytics import service
from sandan.analytics.shifts import ShiftPlan
from sandan.core.audit.models import AuditEntry
from sandan.core.context import Context
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.core.pagination import PageParams
from sandan.telemetry.store import TelemetryStore

T0 = at("2026-03-01T21:00:00")
END = T0 + timedelta(hours=2)
PLAN = ShiftPlan.parse("06:00,14:00,22:00", "Asia/Seoul")
SYSTEM = Principal.system("test")
KW = np.concatenate(
    [
        np.full(60, 20.0),
        np.full(10, 5.0),
        np.full(20, 4.99),
        np.full(3, 19.99),
        np.full(27, 40.0),
    ]
)
KWH = (60 * 20 + 10 * 5 + 20 * 4.99 + 3 * 19.99 + 27 * 40) / 60


@pytest.fixture
def plant(ctx: Context, world: World, store: TelemetryStore) -> dict[str, int]:
    """P1 (power and a rule), P2 (state and power and a rule: the state tag wins), P3 (power,
    no rule: no states), on one line."""
    line = add_line(ctx, world, "LP")
    p1 = add_machine(ctx, world, line, "P1", ("power",))
    p2 = add_machine(ctx, world, line, "P2", ("state", "power"))
    p3 = add_machine(ctx, world, line, "P3", ("power",))
    store.append(
        minutes_of(
            T0,
            {
                p1.tags["power"]: KW,
                p2.tags["state"]: np.full(120, 1.0),  # running, while drawing nothing
                p2.tags["power"]: np.zeros(120),
                p3.tags["power"]: KW,
            },
        )
    )
    with ctx.db.unit(SYSTEM) as s:
        for machine in (p1, p2):
            service.put_state_rule(s, SYSTEM, machine.id, 5.0, 20.0, "down")
    return {"line": line, "p1": p1.id, "p2": p2.id, "p3": p3.id}


def _by_machine(ctx: Context, store: TelemetryStore, line: int) -> dict[int, dict[str, Any]]:
    with ctx.db.unit(SYSTEM) as s:
        answer = service.oee_report(
            s, SYSTEM, store, PLAN, line_id=line, start=T0, end=END, now=END, group_by="machine"
        )
    return {g["machine_id"]: g for g in answer["groups"]}


def test_oee_from_the_rollups_by_hand(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    groups = _by_machine(ctx, store, plant["line"])
    p1 = groups[plant["p1"]]
    assert p1["seconds_in_state"] == {"0": 0, "1": 5220, "2": 780, "3": 1200, "4": 0}
    assert p1["planned_busy_time"] == 7200
    assert p1["availability"] == pytest.approx(0.725)
    assert p1["losses"]["equipment_failure"] == 1200
    assert p1["losses"]["idling_and_minor_stops"] == 780
    assert p1["kwh"] == pytest.approx(KWH)
    assert p1["kwh"] == pytest.approx(41.49617, abs=1e-5)
    p2 = groups[plant["p2"]]  # the state tag wins over the rule
    assert p2["seconds_in_state"]["1"] == 7200 and p2["availability"] == 1.0
    p3 = groups[plant["p3"]]  # power but no rule: energy, no states
    assert p3["planned_busy_time"] == 0 and p3["kwh"] == pytest.approx(KWH)


def test_planned_stop_below_idle(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    with ctx.db.unit(SYSTEM) as s:
        service.put_state_rule(s, SYSTEM, plant["p1"], 5.0, 20.0, "planned_stop")
    p1 = _by_machine(ctx, store, plant["line"])[plant["p1"]]
    assert p1["seconds_in_state"] == {"0": 1200, "1": 5220, "2": 780, "3": 0, "4": 0}
    assert p1["availability"] == pytest.approx(87 / 100)


def test_machine_oee_from_raw_power_readings(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    with ctx.db.unit(SYSTEM) as s:
        one = service.machine_oee(s, SYSTEM, store, plant["p1"], T0, END)
        with pytest.raises(ValidationFailed) as refused:
            service.machine_oee(s, SYSTEM, store, plant["p3"], T0, END)
    assert one["seconds_in_state"] == {"1": 5220.0, "2": 780.0, "3": 1200.0}
    assert one["availability"] == pytest.approx(0.725)
    assert refused.value.problems[0].field == "machine_id"


def test_downtime_events_from_power(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    now = END + MINUTE + timedelta(seconds=30)
    with ctx.db.unit(SYSTEM) as s:
        page = service.downtime_events(
            s,
            SYSTEM,
            store,
            timedelta(minutes=5),
            PageParams(limit=50),
            company_id=world.companies["A"],
            start=T0,
            end=END,
            now=now,
        )
    found = sorted(
        ((e["machine_id"], e["state_name"], e["started_at"], e["ended_at"]) for e in page["items"]),
        key=lambda e: e[2],
    )
    assert found == [
        (plant["p1"], "idle", T0 + 60 * MINUTE, T0 + 70 * MINUTE),
        (plant["p1"], "down", T0 + 70 * MINUTE, T0 + 90 * MINUTE),
    ]


def test_states_now_count_the_power_banded_machines(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    """The map's count per company: P1 by its latest power (40 kW: running), P2 by its state
    tag (running), P3 (no rule) not at all."""
    with ctx.db.unit(SYSTEM) as s:
        states = service.machine_states(s, SYSTEM, store)
    assert states[world.companies["A"]] == {1: 2}
    with ctx.db.unit(SYSTEM) as s:
        service.put_state_rule(s, SYSTEM, plant["p1"], 5.0, 50.0, "down")
        states = service.machine_states(s, SYSTEM, store)
    assert states[world.companies["A"]] == {1: 1, 2: 1}
    admin_b = Principal(
        kind="user",
        name="admin-b",
        company_id=world.companies["B"],
        roles=frozenset({Role.company_admin}),
        scopes=ROLE_SCOPES[Role.company_admin],
    )
    with ctx.db.unit(admin_b) as s:
        assert world.companies["A"] not in service.machine_states(s, admin_b, store)


def test_the_machines_a_page_offers_rules_for(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    """Power without a state tag: P1 (with its rule) and P3 (none yet); not P2."""
    with ctx.db.unit(SYSTEM) as s:
        offered = service.power_machines(s, SYSTEM, world.companies["A"])
    assert [(m["machine_id"], m["line"]) for m in offered] == [
        (plant["p1"], "LP · Line LP"),
        (plant["p3"], "LP · Line LP"),
    ]
    assert offered[0]["rule"]["run_kw"] == 20.0 and offered[1]["rule"] is None


def test_a_silent_power_meter_holds_its_band(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    """A meter that speaks only on change: 30 kW at minute 0, 2 kW at minute 30. Each band
    holds 15 minutes, then the silence is a gap: running 0-15, down 30-45; 8 kWh."""
    line = add_line(ctx, world, "LQ")
    p4 = add_machine(ctx, world, line, "P4", ("power",))
    power = np.full(60, np.nan)
    power[[0, 30]] = [30.0, 2.0]
    store.append(minutes_of(T0, {p4.tags["power"]: power}))
    with ctx.db.unit(SYSTEM) as s:
        service.put_state_rule(s, SYSTEM, p4.id, 5.0, 20.0, "down")
        answer = service.oee_report(
            s, SYSTEM, store, PLAN, line_id=line, start=T0, end=T0 + timedelta(hours=1), now=END
        )
    total = answer["total"]
    assert total["seconds_in_state"] == {"0": 0, "1": 900, "2": 0, "3": 900, "4": 0}
    assert total["kwh"] == pytest.approx(8.0)


def test_bad_thresholds_name_the_field(ctx: Context, world: World) -> None:
    machine = add_machine(ctx, world, world.lines["A"], "P5", ("power",))
    for idle, run, off, fields in (
        (5.0, 5.0, "down", ["run_kw"]),
        (5.0, 1.0, "down", ["run_kw"]),
        (-1.0, 1.0, "down", ["idle_kw"]),
        (float("nan"), 1.0, "down", ["idle_kw"]),
        (1.0, float("inf"), "down", ["run_kw"]),
        (1.0, 2.0, "broken", ["off_state"]),
    ):
        with ctx.db.unit(SYSTEM) as s, pytest.raises(ValidationFailed) as refused:
            service.put_state_rule(s, SYSTEM, machine.id, idle, run, off)
        assert [p.field for p in refused.value.problems] == fields


RULE = "/api/v1/analytics/machines/{}/state-rule"


def test_rules_through_the_api(client: TestClient, ctx: Context, world: World) -> None:
    """Company A's admin sets, reads, replaces and removes a rule; A's member only reads;
    company B neither reads nor writes it; the operator may do all; every change is audited."""
    machine = add_machine(ctx, world, world.lines["A"], "P6", ("power",))
    path = RULE.format(machine.id)
    body = {"idle_kw": 2.5, "run_kw": 12, "off_state": "down"}
    admin, member, other = (world.headers(w) for w in ("admin_a", "member_a", "admin_b"))

    assert client.get(path, headers=admin).status_code == 404  # no rule yet
    assert client.put(path, json=body, headers=member).status_code == 403
    assert client.put(path, json=body, headers=other).status_code == 404
    made = client.put(path, json=body, headers=admin)
    assert made.status_code == 200, made.text
    assert {k: made.json()[k] for k in ("idle_kw", "run_kw", "off_state", "in_effect")} == {
        "idle_kw": 2.5,
        "run_kw": 12.0,
        "off_state": "down",
        "in_effect": True,
    }
    assert client.get(path, headers=member).json()["run_kw"] == 12.0
    assert client.get(path, headers=other).status_code == 404
    listed = client.get(
        f"/api/v1/analytics/companies/{world.companies['A']}/state-rules", headers=member
    )
    assert [r["machine_id"] for r in listed.json()] == [machine.id]
    hidden = client.get(
        f"/api/v1/analytics/companies/{world.companies['A']}/state-rules", headers=other
    )
    assert hidden.status_code == 404

    for bad, field in (
        ({"idle_kw": 5, "run_kw": 5}, "run_kw"),
        ({"idle_kw": -1, "run_kw": 5}, "idle_kw"),
        ({"idle_kw": 1, "run_kw": 5, "off_state": "idle"}, "off_state"),
        ({"run_kw": 5}, "idle_kw"),
    ):
        refused = client.put(path, json=bad, headers=admin)
        assert refused.status_code == 422, refused.text
        assert [f["field"] for f in refused.json()["fields"]] == [field]

    replaced = client.put(path, json={"idle_kw": 1, "run_kw": 8}, headers=world.headers("operator"))
    assert replaced.json()["off_state"] == "planned_stop"  # the default
    assert client.delete(path, headers=member).status_code == 403
    assert client.delete(path, headers=other).status_code == 404
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get(path, headers=admin).status_code == 404
    assert client.delete(path, headers=admin).status_code == 404

    with ctx.db.unit(SYSTEM) as s:
        audited = s.execute(
            select(AuditEntry.action, AuditEntry.after).where(
                AuditEntry.entity == "analytics_state_rules"
            )
        ).all()
    assert [a.action for a in audited] == ["create", "update", "delete"]
    assert audited[1].after["run_kw"] == 8.0


def test_a_rule_on_a_machine_with_a_state_tag_is_not_in_effect(
    client: TestClient, world: World
) -> None:
    """World machine A gets a state tag: its rule is kept, but the state tag wins."""
    made = client.post(
        "/api/v1/tags",
        headers=world.headers("operator"),
        json={"device_id": world.devices["A"], "name": "state", "data_type": "int"},
    )
    assert made.status_code == 201, made.text
    rule = client.put(
        RULE.format(world.machines["A"]),
        json={"idle_kw": 1, "run_kw": 2},
        headers=world.headers("admin_a"),
    )
    assert rule.status_code == 200 and rule.json()["in_effect"] is False
