"""Downtime events found in a state series, kept across reads, and reasons given through the
API (audited; only those who write the company may give them)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from analytics_plant import MINUTE, add_machine, at, minutes_of, store_fixture  # noqa: F401
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World
from sandan.analytics import service
from sandan.core.audit.models import AuditEntry
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.core.pagination import PageParams
from sandan.telemetry.store import TelemetryStore

T = at("2026-05-01T00:00:00")
RUN, IDLE, DOWN, CHANGE = 1, 2, 3, 4
NAN = np.nan


def _states(pieces: list[tuple[float, int]]) -> np.ndarray:
    return np.concatenate([np.full(n, s, dtype=float) for s, n in pieces])


# 3 min idle (too short), 20 min down, 8 min idle, a 30-minute silence, then a changeover.
SERIES = _states(
    [
        (RUN, 10),
        (IDLE, 3),
        (RUN, 10),
        (DOWN, 20),
        (RUN, 5),
        (IDLE, 8),
        (RUN, 5),
        (NAN, 30),
        (CHANGE, 10),
    ]
)


def _events(
    ctx: Context,
    store: TelemetryStore,
    machine_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[dict]:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        page = service.downtime_events(
            s,
            system,
            store,
            timedelta(minutes=5),
            PageParams(limit=50),
            machine_id=machine_id,
            start=start,
            end=end,
            now=now,
        )
    return sorted(page["items"], key=lambda e: e["started_at"])


def test_events_from_a_state_series(ctx: Context, world: World, store: TelemetryStore) -> None:
    machine = add_machine(ctx, world, world.lines["A"], "M7", ("state",))
    store.append(minutes_of(T, {machine.tags["state"]: SERIES}))
    now = T + 101 * MINUTE + timedelta(seconds=30)
    events = _events(ctx, store, machine.id, T, now, now)
    found = [(e["state_name"], e["started_at"], e["ended_at"], e["ongoing"]) for e in events]
    assert found == [
        ("down", T + 23 * MINUTE, T + 43 * MINUTE, False),
        ("idle", T + 48 * MINUTE, T + 56 * MINUTE, False),
        ("changeover", T + 91 * MINUTE, T + 101 * MINUTE, True),  # under way
    ]
    assert events[0]["duration_s"] == 1200 and events[0]["reason"] is None

    # Later: the changeover ended at minute 111. The same event grows; nothing is doubled.
    later = np.concatenate([np.full(10, float(CHANGE)), [float(RUN)]])
    store.append(minutes_of(T + 101 * MINUTE, {machine.tags["state"]: later}))
    now = T + 112 * MINUTE + timedelta(seconds=30)
    again = _events(ctx, store, machine.id, T, now, now)
    assert [e["id"] for e in again] == [e["id"] for e in events]
    assert (again[2]["ended_at"], again[2]["ongoing"]) == (T + 111 * MINUTE, False)


def test_a_long_stop_keeps_its_earliest_start(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    """Read first from inside a 14-hour breakdown (its start lies beyond the 12 hours looked
    back), then over all of it: one event, whose start moves back to the true one."""
    machine = add_machine(ctx, world, world.lines["A"], "M8", ("state",))
    series = _states([(DOWN, 14 * 60), (RUN, 10)])
    store.append(minutes_of(T, {machine.tags["state"]: series}))
    end = T + 14 * 60 * MINUTE + 10 * MINUTE
    (first,) = _events(ctx, store, machine.id, T + timedelta(hours=13), end, end)
    assert first["started_at"] == T + timedelta(hours=1)
    (whole,) = _events(ctx, store, machine.id, T, end, end)
    assert whole["id"] == first["id"]
    assert (whole["started_at"], whole["ended_at"]) == (T, T + timedelta(hours=14))


@pytest.fixture
def stopped(client: TestClient, world: World) -> tuple[int, datetime]:
    """Company A's machine with a state tag and a 20-minute breakdown an hour ago."""
    made = client.post(
        "/api/v1/tags",
        headers=world.headers("operator"),
        json={"device_id": world.devices["A"], "name": "state", "data_type": "int"},
    )
    assert made.status_code == 201, made.text
    start = datetime.now(T.tzinfo).replace(second=0, microsecond=0) - timedelta(minutes=60)
    series = _states([(RUN, 5), (DOWN, 20), (RUN, 10)])
    client.app.state.telemetry_store.append(minutes_of(start, {made.json()["id"]: series}))  # type: ignore[attr-defined]
    return world.machines["A"], start


def test_reasons_through_the_api(
    client: TestClient, ctx: Context, world: World, stopped: tuple[int, datetime]
) -> None:
    machine_id, start = stopped
    listed = client.get(
        f"/api/v1/analytics/machines/{machine_id}/downtime", headers=world.headers("member_a")
    )
    assert listed.status_code == 200, listed.text
    (event,) = listed.json()["items"]
    assert (event["state_name"], event["duration_s"]) == ("down", 1200)
    assert event["started_at"].startswith((start + 5 * MINUTE).isoformat()[:16])
    path = f"/api/v1/analytics/downtime/{event['id']}"
    body = {"reason": "breakdown_mechanical", "note": "spindle bearing"}

    assert client.patch(path, json=body, headers=world.headers("member_a")).status_code == 403
    assert client.patch(path, json=body, headers=world.headers("admin_b")).status_code == 404
    bad = client.patch(path, json={"reason": "gremlins"}, headers=world.headers("admin_a"))
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "reason"
    vague = client.patch(
        path, json={"reason": "other", "note": " "}, headers=world.headers("admin_a")
    )
    assert vague.status_code == 422 and vague.json()["fields"][0]["field"] == "note"

    given = client.patch(path, json=body, headers=world.headers("admin_a"))
    assert given.status_code == 200, given.text
    answer = given.json()
    assert (answer["reason"], answer["reason_label"], answer["note"]) == (
        "breakdown_mechanical",
        "Breakdown, mechanical",
        "spindle bearing",
    )
    assert (
        answer["reason_by"] == f"token:{world.token_ids['admin_a']}/user:{world.users['admin_a']}"
    )

    again = client.get(
        f"/api/v1/analytics/companies/{world.companies['A']}/downtime",
        headers=world.headers("admin_a"),
    ).json()
    assert again["items"][0]["reason"] == "breakdown_mechanical"
    assert again["by_reason"] == [
        {
            "reason": "breakdown_mechanical",
            "reason_label": "Breakdown, mechanical",
            "state": 3,
            "state_name": "down",
            "events": 1,
            "seconds": 1200.0,
        }
    ]
    unassigned = client.get(
        f"/api/v1/analytics/companies/{world.companies['A']}/downtime",
        params={"unassigned": True},
        headers=world.headers("admin_a"),
    ).json()
    assert unassigned["items"] == [] and unassigned["total"] == 0

    with ctx.db.unit(Principal.system("test")) as s:
        audited = s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.entity == "analytics_downtime_events"
            )
        ).all()
    # The detector's writes are not people's changes: only the reason is in the log.
    assert [(a.action, a.actor) for a in audited] == [("update", answer["reason_by"])]
    assert audited[0].before["reason"] is None
    assert audited[0].after["reason"] == "breakdown_mechanical"


def test_the_reason_vocabulary(client: TestClient, world: World) -> None:
    reasons = client.get("/api/v1/analytics/downtime-reasons", headers=world.headers("member_b"))
    codes = [r["code"] for r in reasons.json()]
    assert codes[:2] == ["breakdown_mechanical", "breakdown_electrical"] and "other" in codes
