"""One plan per warehouse and day: consolidate every tenant's stops, solve, keep the result,
and read it back as the operator (everything) or a tenant (its own stops only).

Re-planning writes the next version and starts the search from the one before (stops are
matched by id, so stops added or cancelled since are simply placed or left out). Nothing is
written until the solver is done, so a long search holds no write lock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import found
from sandan.logistics.delivery import problem as vrp
from sandan.logistics.delivery.models import (
    DeliveryPlan,
    DeliveryRoute,
    DeliveryStop,
    PlannedStop,
    Vehicle,
)
from sandan.logistics.delivery.schemas import PlanIn
from sandan.logistics.delivery.service import clock, gather_shipments, minutes
from sandan.logistics.delivery.solver import Options, Solution, default_time_limit, solve
from sandan.logistics.models import Warehouse
from sandan.logistics.service import layout
from sandan.logistics.service.access import ensure_operator, owned


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _seconds(value: datetime, zero: datetime) -> int:
    return int((value - zero).total_seconds())


def previous_routes(session: Session, warehouse_id: int, day: date) -> dict[int, list[int]]:
    """The newest plan of the day as vehicle id → stop ids in visiting order ({} if none)."""
    plan_id = session.scalar(
        select(DeliveryPlan.id)
        .where(DeliveryPlan.warehouse_id == warehouse_id, DeliveryPlan.day == day)
        .order_by(DeliveryPlan.version.desc())
        .limit(1)
    )
    if plan_id is None:
        return {}
    rows = session.execute(
        select(DeliveryRoute.vehicle_id, PlannedStop.stop_id)
        .join(PlannedStop, PlannedStop.route_id == DeliveryRoute.id)
        .where(DeliveryRoute.plan_id == plan_id, DeliveryRoute.vehicle_id.is_not(None))
        .order_by(DeliveryRoute.seq, PlannedStop.position)
    )
    routes: dict[int, list[int]] = {}
    for vehicle_id, stop_id in rows:
        if vehicle_id is not None:
            routes.setdefault(vehicle_id, []).append(stop_id)
    return routes


def _problem(
    body: PlanIn,
    warehouse: Warehouse,
    stops: list[DeliveryStop],
    fleet: list[Vehicle],
    tz: ZoneInfo,
) -> tuple[vrp.Problem, list[int]]:
    """The day as solver values; unsaved stops get temporary negative ids."""
    zero = midnight(body.day, tz)
    keys = [-(i + 1) if s.id is None else s.id for i, s in enumerate(stops)]
    problem = vrp.Problem(
        depot=vrp.Depot(
            warehouse.lat, warehouse.lon, minutes(body.opens) * 60, minutes(body.closes) * 60
        ),
        stops=[
            vrp.Stop(
                id=key,
                lat=s.lat,
                lon=s.lon,
                ready_s=max(0, _seconds(s.window_start, zero)),
                due_s=min(vrp.HORIZON_S, max(0, _seconds(s.window_end, zero))),
                service_s=s.service_min * 60,
                weight_kg=s.weight_kg,
                volume_m3=s.volume_m3,
            )
            for key, s in zip(keys, stops, strict=True)
        ],
        vehicles=[
            vrp.Vehicle(
                id=v.id,
                capacity_kg=v.capacity_kg,
                capacity_m3=v.capacity_m3,
                shift_start_s=v.shift_start_min * 60,
                shift_end_s=v.shift_end_min * 60,
                cost_per_km=v.cost_per_km,
            )
            for v in fleet
        ],
        road_factor=body.road_factor,
        speed_kmh=body.speed_kmh,
    )
    return problem, keys


def plan_day(session: Session, principal: Principal, body: PlanIn, tz: ZoneInfo) -> DeliveryPlan:
    """Consolidate the day's stops of every tenant and route them on the active fleet."""
    ensure_operator(principal, "plan joint deliveries")
    warehouse = layout.warehouse(session, body.warehouse_id)
    with session.no_autoflush:
        created = gather_shipments(session, warehouse.id, body.day)
        stmt = select(DeliveryStop).where(
            DeliveryStop.warehouse_id == warehouse.id,
            DeliveryStop.day == body.day,
            DeliveryStop.status == "open",
        )
        stops = [*session.scalars(stmt.order_by(DeliveryStop.id)), *created]
        stops = [s for s in stops if s.status == "open"]
        fleet = list(
            session.scalars(select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.id))
        )
        previous = previous_routes(session, warehouse.id, body.day) if body.warm_start else {}
    if not fleet:
        raise ValidationFailed.one("fleet", "there is no active vehicle in the fleet")
    if not stops:
        raise ValidationFailed.one("day", f"no open stops on {body.day} at this warehouse")
    problem, keys = _problem(body, warehouse, stops, fleet, tz)
    limit = body.time_limit_s or default_time_limit(len(stops))
    solution = solve(problem, Options(time_limit_s=limit, quick=body.quick, previous=previous))
    session.flush()  # the gathered stops get their ids only now
    by_key = dict(zip(keys, stops, strict=True))
    plan = _save(session, principal, body, solution, by_key, fleet, tz, limit)
    raise_event(
        session,
        "logistics.delivery_planned",
        {"plan_id": plan.id, "warehouse_id": warehouse.id, "day": body.day.isoformat()},
    )
    return plan


def _save(
    session: Session,
    principal: Principal,
    body: PlanIn,
    solution: Solution,
    by_key: dict[int, DeliveryStop],
    fleet: list[Vehicle],
    tz: ZoneInfo,
    limit: float,
) -> DeliveryPlan:
    zero = midnight(body.day, tz)

    def at(seconds: int) -> datetime:
        return zero + timedelta(seconds=seconds)

    last = session.scalar(
        select(func.max(DeliveryPlan.version)).where(
            DeliveryPlan.warehouse_id == body.warehouse_id, DeliveryPlan.day == body.day
        )
    )
    plan = DeliveryPlan(
        warehouse_id=body.warehouse_id,
        day=body.day,
        version=int(last or 0) + 1,
        opens_min=minutes(body.opens),
        closes_min=minutes(body.closes),
        road_factor=body.road_factor,
        speed_kmh=body.speed_kmh,
        time_limit_s=limit,
        quick=body.quick,
        warm_started=solution.warm_started,
        solver_status=solution.status,
        solve_seconds=round(solution.seconds, 3),
        cost=solution.cost,
        distance_m=solution.distance_m,
        objective=solution.objective,
        start_objective=solution.start_objective,
        stops_total=len(by_key),
        stops_dropped=len(solution.dropped),
        vehicles_used=len(solution.routes),
        created_by=principal.actor,
    )
    session.add(plan)
    session.flush()
    plates = {v.id: v.plate for v in fleet}
    rows: list[PlannedStop] = []
    for seq, route in enumerate(solution.routes, start=1):
        saved = DeliveryRoute(
            plan_id=plan.id,
            vehicle_id=route.vehicle_id,
            plate=plates[route.vehicle_id],
            seq=seq,
            depart_at=at(route.depart_s),
            return_at=at(route.return_s),
            distance_m=route.distance_m,
            cost=route.cost,
            weight_kg=route.weight_kg,
            volume_m3=route.volume_m3,
        )
        session.add(saved)
        session.flush()
        for position, visit in enumerate(route.visits, start=1):
            stop = by_key[visit.stop_id]
            rows.append(
                PlannedStop(
                    plan_id=plan.id,
                    stop_id=stop.id,
                    owner_company_id=stop.owner_company_id,
                    route_id=saved.id,
                    position=position,
                    arrival_at=at(visit.arrival_s),
                    start_at=at(visit.start_s),
                    departure_at=at(visit.departure_s),
                )
            )
    for drop in solution.dropped:
        stop = by_key[drop.stop_id]
        rows.append(
            PlannedStop(
                plan_id=plan.id,
                stop_id=stop.id,
                owner_company_id=stop.owner_company_id,
                dropped_reason=drop.reason,
                dropped_detail=drop.detail[:300],
            )
        )
    session.add_all(rows)
    session.flush()
    return plan


def _sees_all(principal: Principal) -> bool:
    return principal.reads_all(Resource.warehouse)


def summary(plan: DeliveryPlan, full: bool) -> dict[str, Any]:
    """A plan's head; the totals only for those who see every tenant's stops."""
    head: dict[str, Any] = {
        k: getattr(plan, k)
        for k in (
            "id",
            "warehouse_id",
            "day",
            "version",
            "created_at",
            "warm_started",
            "quick",
            "solver_status",
            "solve_seconds",
            "time_limit_s",
        )
    }
    for k in (
        "cost",
        "distance_m",
        "objective",
        "start_objective",
        "stops_total",
        "stops_dropped",
        "vehicles_used",
    ):
        head[k] = getattr(plan, k) if full else None
    return head


def plans(
    session: Session,
    principal: Principal,
    warehouse_id: int | None = None,
    day: date | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Plans, newest first (a tenant sees that a plan exists, not its totals)."""
    stmt = select(DeliveryPlan)
    if warehouse_id is not None:
        stmt = stmt.where(DeliveryPlan.warehouse_id == warehouse_id)
    if day is not None:
        stmt = stmt.where(DeliveryPlan.day == day)
    stmt = stmt.order_by(DeliveryPlan.day.desc(), DeliveryPlan.version.desc()).limit(limit)
    full = _sees_all(principal)
    return [summary(p, full) for p in session.scalars(stmt)]


def _stop_out(planned: PlannedStop, stop: DeliveryStop) -> dict[str, Any]:
    return {
        "stop_id": stop.id,
        "owner_company_id": stop.owner_company_id,
        "ref": stop.ref,
        "ship_to": stop.ship_to,
        "address": stop.address,
        "lat": stop.lat,
        "lon": stop.lon,
        "window_start": stop.window_start,
        "window_end": stop.window_end,
        "weight_kg": stop.weight_kg,
        "volume_m3": stop.volume_m3,
        "position": planned.position,
        "arrival_at": planned.arrival_at,
        "start_at": planned.start_at,
        "departure_at": planned.departure_at,
        "dropped_reason": planned.dropped_reason,
        "dropped_detail": planned.dropped_detail,
    }


def plan_detail(session: Session, principal: Principal, plan_id: int) -> dict[str, Any]:
    """A plan with its routes and dropped stops; a tenant gets only its own stops (and of the
    routes only the trucks that carry them), the operator everything."""
    plan = found(session.get(DeliveryPlan, plan_id), "delivery plan")
    full = _sees_all(principal)
    stmt = owned(
        select(PlannedStop, DeliveryStop)
        .join(DeliveryStop, DeliveryStop.id == PlannedStop.stop_id)
        .where(PlannedStop.plan_id == plan_id),
        principal,
        PlannedStop.owner_company_id,
    )
    on_route: dict[int, list[dict[str, Any]]] = {}
    dropped: list[dict[str, Any]] = []
    for planned, stop in session.execute(stmt.order_by(PlannedStop.position, PlannedStop.id)):
        out = _stop_out(planned, stop)
        if planned.route_id is None:
            dropped.append(out)
        else:
            on_route.setdefault(planned.route_id, []).append(out)
    if not full:  # a tenant learns its stops' order, not how many others' come between
        for stops in on_route.values():
            for rank, out in enumerate(stops, start=1):
                out["position"] = rank
    routes = []
    for route in session.scalars(
        select(DeliveryRoute).where(DeliveryRoute.plan_id == plan_id).order_by(DeliveryRoute.seq)
    ):
        if not full and route.id not in on_route:
            continue
        routes.append(
            {
                "id": route.id,
                "seq": route.seq,
                "plate": route.plate,
                "vehicle_id": route.vehicle_id,
                "depart_at": route.depart_at if full else None,
                "return_at": route.return_at if full else None,
                "distance_m": route.distance_m if full else None,
                "cost": route.cost if full else None,
                "weight_kg": route.weight_kg if full else None,
                "volume_m3": route.volume_m3 if full else None,
                "stops": on_route.get(route.id, []),
            }
        )
    warehouse = layout.warehouse(session, plan.warehouse_id)
    depot = {
        "name": warehouse.name,
        "lat": warehouse.lat,
        "lon": warehouse.lon,
        "opens": clock(plan.opens_min),
        "closes": clock(plan.closes_min),
    }
    return {**summary(plan, full), "depot": depot, "routes": routes, "dropped": dropped}
