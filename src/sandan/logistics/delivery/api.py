"""HTTP routes of joint delivery under /api/v1/logistics/delivery."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response

from sandan.core.http import DbSession, RegistryRead, get_context, require
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.core.types import IdPath, IdQuery
from sandan.logistics.delivery import plans, service
from sandan.logistics.delivery.models import DeliveryStop
from sandan.logistics.delivery.schemas import (
    PlanIn,
    PlanOut,
    PlanSummary,
    StopIn,
    StopOut,
    VehicleIn,
    VehicleOut,
    VehiclePatch,
)

router = APIRouter(prefix="/delivery", tags=["logistics: joint delivery"])
Operate = Annotated[Principal, Depends(require(Scope.warehouse_operate))]


def plant_zone(request: Request) -> ZoneInfo:
    """The plants' local time zone: windows without a zone and the plan day are in it."""
    return ZoneInfo(get_context(request).settings.plant_timezone)


Zone = Annotated[ZoneInfo, Depends(plant_zone)]


@router.get("/vehicles", response_model=list[VehicleOut])
def list_vehicles(principal: Operate, session: DbSession) -> list[dict[str, Any]]:
    """The shared fleet (the logistics operator's)."""
    return [service.vehicle_out(v) for v in service.vehicles(session, principal)]


@router.post("/vehicles", response_model=VehicleOut, status_code=201)
def add_vehicle(body: VehicleIn, principal: Operate, session: DbSession) -> dict[str, Any]:
    """Add a truck: plate, capacity in kg (and m³), the driver's shift, cost per km."""
    return service.vehicle_out(service.add_vehicle(session, principal, body))


@router.patch("/vehicles/{vehicle_id}", response_model=VehicleOut)
def update_vehicle(
    vehicle_id: IdPath, body: VehiclePatch, principal: Operate, session: DbSession
) -> dict[str, Any]:
    """Change a truck, or take it out of planning with active=false."""
    return service.vehicle_out(service.update_vehicle(session, principal, vehicle_id, body))


@router.get("/stops", response_model=list[StopOut])
def list_stops(
    principal: RegistryRead,
    session: DbSession,
    day: date | None = None,
    warehouse_id: IdQuery = None,
) -> list[DeliveryStop]:
    """Open delivery stops: a tenant's own, or every tenant's for the operator."""
    return service.stops(session, principal, day, warehouse_id)


@router.post("/stops", response_model=StopOut, status_code=201)
def add_stop(body: StopIn, principal: RegistryRead, session: DbSession, tz: Zone) -> DeliveryStop:
    """Enter a delivery for the joint run of the day its window opens (a tenant for itself,
    the operator for any tenant). Warehouse shipments join by themselves when planning."""
    return service.add_stop(session, principal, body, tz)


@router.delete("/stops/{stop_id}", status_code=204)
def cancel_stop(stop_id: IdPath, principal: RegistryRead, session: DbSession) -> Response:
    """Leave a stop out of the next plan."""
    service.cancel_stop(session, principal, stop_id)
    return Response(status_code=204)


@router.post("/plans", response_model=PlanOut, status_code=201)
def make_plan(body: PlanIn, principal: Operate, session: DbSession, tz: Zone) -> dict[str, Any]:
    """Route the day's stops of every tenant on the active fleet (time windows, capacities,
    shifts, a time limit), warm-started from the day's previous plan; stops that cannot be
    served are listed with the reason."""
    plan = plans.plan_day(session, principal, body, tz)
    return plans.plan_detail(session, principal, plan.id)


@router.get("/plans", response_model=list[PlanSummary])
def list_plans(
    principal: RegistryRead,
    session: DbSession,
    warehouse_id: IdQuery = None,
    day: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Plans, newest first; the totals are the operator's."""
    return plans.plans(session, principal, warehouse_id, day, limit)


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: IdPath, principal: RegistryRead, session: DbSession) -> dict[str, Any]:
    """A plan's routes: the operator sees every truck and stop, a tenant its own stops with
    their arrival time and truck."""
    return plans.plan_detail(session, principal, plan_id)
