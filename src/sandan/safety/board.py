"""What the control centre shows at once: open alarms, incidents, shelters and evacuation
routes, and the drill that lets an operator rehearse a gas leak in the simulated complex.
Gathered here so the page and the API show the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import Conflict, NotFound, PermissionDenied
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.pagination import PageParams
from sandan.safety.alarms import service as alarms
from sandan.safety.alarms.models import AlarmDefinition
from sandan.safety.incidents import service as incidents
from sandan.safety.register import service as hazards
from sandan.safety.register.models import EvacuationRoute, Shelter

PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DRILL_PPM = 320.0  # a gas detector's reading during the drill: above HH (200 ppm)
DRILL_SECONDS = 90.0


@dataclass
class Board:
    alarms: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    shelters: list[dict[str, Any]] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)


def board(session: Session, principal: Principal) -> Board:
    """The open alarms (most urgent first), the incidents, shelters and routes."""
    if not principal.reads_all(Resource.hazards):
        raise PermissionDenied("the control centre is for the safety operators")
    rows, _total = alarms.list_alarms(session, principal, page=PageParams(limit=500))
    open_alarms = [alarms.alarm_payload(a) for a in rows]
    open_alarms.sort(key=lambda a: (PRIORITY_ORDER.get(a["priority"], 9), a["at"]))
    return Board(
        alarms=open_alarms,
        incidents=[
            {
                "id": i.id,
                "title": i.title,
                "kind": i.kind,
                "severity": i.severity,
                "status": i.status,
                "lat": i.lat,
                "lon": i.lon,
                "radius_m": i.radius_m,
                "opened_at": i.opened_at,
            }
            for i in incidents.list_incidents(session, principal)
        ],
        shelters=[
            {"id": s.id, "name": s.name, "kind": s.kind, "lat": s.lat, "lon": s.lon}
            for s in hazards.list_complexwide(session, Shelter)
        ],
        routes=[
            {"id": r.id, "name": r.name, "points": r.points}
            for r in hazards.list_complexwide(session, EvacuationRoute)
        ],
    )


def start_gas_drill(
    session: Session, principal: Principal, simulated: bool, tag_id: int | None = None
) -> dict[str, Any]:
    """Hold a simulated gas detector above its HH limit for a while, through the real ingest
    path, so the alarm, the map and the incident tools can be rehearsed. Only where the
    simulator feeds the platform: a drill never writes fake readings into a live plant."""
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("drills are run by the safety operators")
    if not simulated:
        raise Conflict("drills need the simulated complex (sandan demo); this one is live")
    gas = drill_candidates(session)
    if tag_id is not None:
        gas = [g for g in gas if g["tag_id"] == tag_id]
    if not gas:
        raise NotFound("no gas detector with an alarm definition to drill on")
    chosen = gas[0]
    raise_event(
        session,
        "simulator.inject",
        {"tag_id": chosen["tag_id"], "value": DRILL_PPM, "seconds": DRILL_SECONDS},
    )
    return {**chosen, "value": DRILL_PPM, "seconds": DRILL_SECONDS}


def drill_candidates(session: Session) -> list[dict[str, Any]]:
    """Gas detectors that have an alarm definition, the ones a drill can use."""
    rows = session.execute(
        select(AlarmDefinition.tag_id, AlarmDefinition.company_id, AlarmDefinition.name)
        .where(AlarmDefinition.kind == "gas", AlarmDefinition.enabled)
        .order_by(AlarmDefinition.id)
    )
    return [{"tag_id": t, "company_id": c, "name": n} for t, c, n in rows]
