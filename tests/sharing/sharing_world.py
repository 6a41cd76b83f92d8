"""Helpers of the sharing API tests: a line of company A with real readings, a third company
C that is party to nothing, and the policies of the acceptance scenario."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

# The analytics tests' plant builder: a real line whose readings make real OEE figures.
sys.path.insert(0, str(Path(__file__).parent.parent / "analytics"))
from analytics_plant import add_line, add_machine, minutes_of

from conftest import PASSWORD, World
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.registry import schemas, service

NAMES = ("state", "cycle_count", "defect_count", "power")
DAY = 86_400


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def plant_with_readings(ctx: Context, world: World, client: TestClient) -> dict[str, Any]:
    """A line L9 of company A with one machine that ran for the last 6 whole hours at 10
    units a minute, 1 reject an hour, drawing 60 kW: one reading per minute per tag."""
    line = add_line(ctx, world, "L9")
    machine = add_machine(ctx, world, line, "M9", NAMES)
    end = hour_floor(datetime.now(UTC))
    start = end - timedelta(hours=6)
    minutes = 6 * 60
    rejects = np.zeros(minutes)
    rejects[::60] = 1
    series = {
        machine.tags["state"]: np.concatenate([[np.nan], np.full(minutes, 1.0)]),
        machine.tags["cycle_count"]: np.concatenate([[0.0], np.cumsum(np.full(minutes, 10.0))]),
        machine.tags["defect_count"]: np.concatenate([[0.0], np.cumsum(rejects)]),
        machine.tags["power"]: np.concatenate([[np.nan], np.full(minutes, 60.0)]),
    }
    client.app.state.telemetry_store.append(  # type: ignore[attr-defined]
        minutes_of(start - timedelta(minutes=1), series)
    )
    return {"line": line, "machine": machine, "start": start, "end": end}


def add_company_c(ctx: Context, world: World) -> None:
    """Company C in zone Z3 with an admin: a company the offer was not made for."""
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        company = service.create_company(
            s,
            system,
            schemas.CompanyIn(
                brn="1078134251", name="회사C", ksic="29120", zone_id=world.zones["Z3"]
            ),
        )
        world.companies["C"] = company.id
        user = identity.create_user(
            s,
            system,
            email="admin_c@test.example",
            name="admin_c",
            password=PASSWORD,
            role=Role.company_admin.value,
            company_id=company.id,
        )
        scopes = [sc.value for sc in ROLE_SCOPES[Role.company_admin]]
        cred, token = identity.issue_api_token(
            s, identity.principal_for(user), name="test", scopes=scopes, days=1
        )
        world.tokens["admin_c"], world.token_ids["admin_c"] = token, cred.id


def constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {"left": left, "operator": operator, "right": right}


def use(*constraints: dict[str, Any], duties: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"action": "use", "constraints": list(constraints), "duties": list(duties)}


def terms(world: World, *, pulls: int, extra: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """The supplier's terms to its parent company B: quality improvement, 30 days, at most
    `pulls` pulls, hourly or coarser, paid."""
    return {
        "uid": f"urn:sandan:policy:to-parent-{pulls}",
        "permissions": [
            use(
                constraint("purpose", "eq", "quality_improvement"),
                constraint("recipient", "eq", world.companies["B"]),
                constraint("elapsed_time", "lteq", 30 * DAY),
                constraint("count", "lteq", pulls),
                constraint("resolution", "gteq", 3600),
                *extra,
                duties=({"action": "compensate", "amount_krw": 120_000, "unit": "one_off"},),
            )
        ],
        "prohibitions": [{"action": "distribute", "constraints": []}],
    }


def only_for(world: World, key: str) -> dict[str, Any]:
    """An access policy: only company `key` sees the offer in the catalogue."""
    return {
        "uid": f"urn:sandan:policy:visible-to-{key}",
        "permissions": [use(constraint("recipient", "eq", world.companies[key]))],
    }


def sse_frames(text: str) -> list[tuple[str, Any]]:
    import orjson

    frames = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith(":")]
        event = next((ln[7:] for ln in lines if ln.startswith("event: ")), None)
        data = next((ln[6:] for ln in lines if ln.startswith("data: ")), None)
        if event and data is not None:
            frames.append((event, orjson.loads(data)))
    return frames
