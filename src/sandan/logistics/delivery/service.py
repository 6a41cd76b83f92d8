"""The shared fleet and the stops of a day: who may change them, and how the warehouse's
ready shipments join the joint run.

The fleet is the operator's (`warehouse:operate`). A tenant enters and cancels its own stops
(`warehouse:order`), the operator anyone's; reads are filtered by owner inside the query.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.errors import Conflict, NotFound, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.logistics.delivery.models import DeliveryStop, Vehicle
from sandan.logistics.delivery.schemas import StopIn, VehicleIn, VehiclePatch
from sandan.logistics.models import Shipment
from sandan.logistics.service import layout
from sandan.logistics.service.access import ensure_operator, get_owned, owned, owner_for

DEFAULT_SERVICE_MIN = 10  # unloading time of a shipment at its destination


def minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def clock(total_min: int) -> str:
    return f"{total_min // 60:02d}:{total_min % 60:02d}"


def vehicle_out(row: Vehicle) -> dict[str, Any]:
    return {
        "id": row.id,
        "plate": row.plate,
        "capacity_kg": row.capacity_kg,
        "capacity_m3": row.capacity_m3,
        "shift_start": clock(row.shift_start_min),
        "shift_end": clock(row.shift_end_min),
        "cost_per_km": row.cost_per_km,
        "active": row.active,
    }


def vehicles(session: Session, principal: Principal, *, active_only: bool = False) -> list[Vehicle]:
    """The fleet, by plate."""
    ensure_operator(principal, "read the delivery fleet")
    stmt = select(Vehicle).order_by(Vehicle.plate)
    if active_only:
        stmt = stmt.where(Vehicle.active.is_(True))
    return list(session.scalars(stmt))


def _plate_free(session: Session, plate: str, vehicle_id: int | None = None) -> None:
    other = session.scalar(select(Vehicle.id).where(Vehicle.plate == plate))
    if other is not None and other != vehicle_id:
        raise Conflict(f"a vehicle with plate {plate} exists")


def add_vehicle(session: Session, principal: Principal, body: VehicleIn) -> Vehicle:
    """A truck joins the fleet."""
    ensure_operator(principal, "change the delivery fleet")
    _plate_free(session, body.plate)
    row = Vehicle(
        plate=body.plate,
        capacity_kg=body.capacity_kg,
        capacity_m3=body.capacity_m3,
        shift_start_min=minutes(body.shift_start),
        shift_end_min=minutes(body.shift_end),
        cost_per_km=body.cost_per_km,
        active=body.active,
    )
    session.add(row)
    session.flush()
    return row


def update_vehicle(
    session: Session, principal: Principal, vehicle_id: int, body: VehiclePatch
) -> Vehicle:
    """Change a truck (plans already made keep their copy of it)."""
    ensure_operator(principal, "change the delivery fleet")
    row = session.get(Vehicle, vehicle_id)
    if row is None:
        raise NotFound("vehicle not found")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("plate"):
        _plate_free(session, changes["plate"], vehicle_id)
    for key in ("shift_start", "shift_end"):
        if key in changes:
            value = changes.pop(key)
            if value is None:
                raise ValidationFailed.one(key, "a shift needs a start and an end")
            changes[f"{key}_min"] = minutes(value)
    for key, value in changes.items():
        if value is None and key != "capacity_m3":
            raise ValidationFailed.one(key, "may not be null")
        setattr(row, key, value)
    if row.shift_end_min <= row.shift_start_min:
        raise ValidationFailed.one("shift_end", "shift_end must be after shift_start")
    session.flush()
    return row


def local(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime; a naive one is the plant's local time."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def add_stop(session: Session, principal: Principal, body: StopIn, tz: ZoneInfo) -> DeliveryStop:
    """A tenant's delivery for the joint run, on the local day its window opens."""
    owner = owner_for(principal, body.owner_company_id)
    layout.warehouse(session, body.warehouse_id)
    start, end = local(body.window_start, tz), local(body.window_end, tz)
    fields = body.model_dump(exclude={"owner_company_id", "window_start", "window_end"})
    row = DeliveryStop(
        owner_company_id=owner,
        day=start.astimezone(tz).date(),
        window_start=start,
        window_end=end,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def stops(
    session: Session,
    principal: Principal,
    day: date | None = None,
    warehouse_id: int | None = None,
    include_cancelled: bool = False,
) -> list[DeliveryStop]:
    """The stops the principal may read: a tenant its own, the operator everyone's."""
    stmt = owned(select(DeliveryStop), principal, DeliveryStop.owner_company_id)
    if day is not None:
        stmt = stmt.where(DeliveryStop.day == day)
    if warehouse_id is not None:
        stmt = stmt.where(DeliveryStop.warehouse_id == warehouse_id)
    if not include_cancelled:
        stmt = stmt.where(DeliveryStop.status == "open")
    return list(session.scalars(stmt.order_by(DeliveryStop.day, DeliveryStop.window_start)))


def cancel_stop(session: Session, principal: Principal, stop_id: int) -> None:
    """Take a stop out of the next plan (plans already made keep their record of it)."""
    row = get_owned(session, principal, DeliveryStop, stop_id)
    owner_for(principal, row.owner_company_id)
    if row.shipment_id is not None:
        raise Conflict("this stop is a warehouse shipment; cancel the shipment instead")
    row.status = "cancelled"
    session.flush()


def gather_shipments(session: Session, warehouse_id: int, day: date) -> list[DeliveryStop]:
    """Bring the warehouse's shipments of the day into the run: a ready shipment becomes (or
    refreshes) its stop, a cancelled one cancels it. Called by planning, as the operator;
    returns the stops it created, which are not flushed yet (the caller flushes after the
    solve, so no write lock is held while the solver runs)."""
    created: list[DeliveryStop] = []
    linked = {
        s.shipment_id: s
        for s in session.scalars(
            select(DeliveryStop).where(
                DeliveryStop.warehouse_id == warehouse_id,
                DeliveryStop.day == day,
                DeliveryStop.shipment_id.is_not(None),
            )
        )
    }
    rows = session.scalars(
        select(Shipment).where(Shipment.warehouse_id == warehouse_id, Shipment.ship_date == day)
    )
    for ship in rows:
        stop = linked.get(ship.id)
        if ship.status == "cancelled":
            if stop is not None:
                stop.status = "cancelled"
            continue
        if ship.status != "ready" and stop is None:
            continue  # gone before it was ever planned
        values = {
            "owner_company_id": ship.owner_company_id,
            "ship_to": ship.ship_to,
            "address": ship.address,
            "lat": ship.lat,
            "lon": ship.lon,
            "window_start": ship.window_start,
            "window_end": ship.window_end,
            "weight_kg": ship.weight_kg,
            "volume_m3": ship.volume_m3,
        }
        if stop is None:
            stop = DeliveryStop(
                warehouse_id=warehouse_id,
                day=day,
                shipment_id=ship.id,
                ref=f"SHP-{ship.id}",
                service_min=DEFAULT_SERVICE_MIN,
                status="open",  # set now: column defaults apply only at the insert
                **values,
            )
            session.add(stop)
            created.append(stop)
        else:
            for key, value in values.items():
                if getattr(stop, key) != value:
                    setattr(stop, key, value)
    return created
