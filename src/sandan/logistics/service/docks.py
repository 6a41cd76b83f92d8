"""Dock appointments and the yard.

A booking must fit the dock's opening hours and slot grid, suit its direction and truck
classes, and find room: at most `max_trucks` appointments may overlap on one dock. The check
runs with the dock row locked (PostgreSQL) or the write lock held (SQLite), so two clerks
cannot both take the last place. Trucks check in at the gate by plate; the queue is the
trucks in the yard in order of their slot, walk-ins last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.errors import DockClash, WrongState
from sandan.logistics.models import Appointment, Asn, Dock, YardVisit
from sandan.logistics.schemas import AppointmentIn, SlotOut
from sandan.logistics.schemas_out import YardVisitOut
from sandan.logistics.service.access import (
    ensure_operator,
    ensure_owner,
    get_owned,
    owned,
    owner_for,
    write_lock,
)
from sandan.logistics.timezone import SEOUL, at_local, local_day
from sandan.logistics.validators import normalise_plate


def _overlapping(
    session: Session, dock_id: int, start: datetime, end: datetime
) -> list[Appointment]:
    stmt = select(Appointment).where(
        Appointment.dock_id == dock_id,
        Appointment.status == "booked",
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    return list(session.scalars(stmt.order_by(Appointment.starts_at)))


def book(session: Session, principal: Principal, body: AppointmentIn) -> Appointment:
    """Book a dock slot; a full dock is a 409 that says who holds it and when."""
    owner = owner_for(principal, body.owner_company_id)
    write_lock(session)
    dock = session.scalar(
        select(Dock).where(Dock.id == body.dock_id).with_for_update(key_share=True)
    )
    if dock is None:
        raise ValidationFailed.one("dock_id", "no such dock")
    if body.asn_id is not None:
        asn = session.get(Asn, body.asn_id)
        if asn is None or asn.owner_company_id != owner:
            raise ValidationFailed.one("asn_id", "no such ASN of this owner")
    if dock.kind not in ("both", body.direction):
        raise ValidationFailed.one("dock_id", f"dock {dock.code} is for {dock.kind} trucks")
    if body.truck_class not in dock.truck_classes:
        raise ValidationFailed.one(
            "truck_class", f"dock {dock.code} takes {', '.join(dock.truck_classes)} trucks"
        )
    start, end = as_utc(body.starts_at), as_utc(body.ends_at)
    _check_grid(dock, start, end)
    held = _overlapping(session, dock.id, start, end)
    if len(held) >= dock.max_trucks:
        first = held[0]
        span = f"{first.starts_at.astimezone(SEOUL):%H:%M}–{first.ends_at.astimezone(SEOUL):%H:%M}"
        raise DockClash(
            f"dock {dock.code} is full from {span} (appointment {first.id}, "
            f"{len(held)} of {dock.max_trucks} trucks booked)",
            clashes_with=[a.id for a in held],
        )
    row = Appointment(
        owner_company_id=owner,
        dock_id=dock.id,
        asn_id=body.asn_id,
        direction=body.direction,
        starts_at=start,
        ends_at=end,
        truck_plate=body.truck_plate,
        truck_class=body.truck_class,
    )
    session.add(row)
    session.flush()
    return row


def _check_grid(dock: Dock, start: datetime, end: datetime) -> None:
    day = local_day(start)
    opens, closes = at_local(day, dock.opens), at_local(day, dock.closes)
    if start < opens or end > closes:
        raise ValidationFailed.one(
            "starts_at", f"dock {dock.code} is open {dock.opens}–{dock.closes} (Asia/Seoul)"
        )
    step = timedelta(minutes=dock.slot_minutes)
    if (start - opens) % step or (end - start) % step:
        raise ValidationFailed.one(
            "starts_at", f"dock {dock.code} books whole {dock.slot_minutes}-minute slots"
        )


def cancel(session: Session, principal: Principal, appointment_id: int) -> Appointment:
    row = get_owned(session, principal, Appointment, appointment_id)
    ensure_owner(principal, row.owner_company_id)
    if row.status != "booked":
        raise WrongState(f"appointment {row.id} is {row.status}")
    row.status = "cancelled"
    session.flush()
    return row


def appointments(
    session: Session, principal: Principal, day: date | None = None, dock_id: int | None = None
) -> Sequence[Appointment]:
    stmt = owned(select(Appointment), principal, Appointment.owner_company_id)
    if day is not None:
        start = at_local(day, "00:00")
        stmt = stmt.where(
            Appointment.starts_at >= start, Appointment.starts_at < start + timedelta(days=1)
        )
    if dock_id is not None:
        stmt = stmt.where(Appointment.dock_id == dock_id)
    return session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)).all()


def slots(session: Session, dock_id: int, day: date) -> list[SlotOut]:
    """The dock's slots of a local day with how many trucks are booked and how many fit."""
    dock = found(session.get(Dock, dock_id), "dock")
    opens, closes = at_local(day, dock.opens), at_local(day, dock.closes)
    booked = _overlapping(session, dock.id, opens, closes)
    step = timedelta(minutes=dock.slot_minutes)
    out = []
    at = opens
    while at + step <= closes:
        n = sum(1 for a in booked if as_utc(a.starts_at) < at + step and as_utc(a.ends_at) > at)
        out.append(
            SlotOut(starts_at=at, ends_at=at + step, booked=n, free=max(0, dock.max_trucks - n))
        )
        at += step
    return out


def check_in(session: Session, principal: Principal, warehouse_id: int, plate: str) -> YardVisit:
    """A truck at the gate: matched to today's booking of its plate, if any."""
    ensure_operator(principal, "run the gate")
    compact = normalise_plate(plate)
    if compact is None:
        raise ValidationFailed.one("truck_plate", "a Korean plate like 12가3456 or 서울82바1234")
    inside = select(YardVisit.id).where(
        YardVisit.truck_plate == compact, YardVisit.checked_out_at.is_(None)
    )
    if session.scalar(inside):
        raise WrongState(f"truck {compact} is already in the yard")
    now = utcnow()
    start = at_local(local_day(now), "00:00")
    appt = session.scalars(
        select(Appointment)
        .join(Dock, Dock.id == Appointment.dock_id)
        .where(
            Dock.warehouse_id == warehouse_id,
            Appointment.truck_plate == compact,
            Appointment.status == "booked",
            Appointment.starts_at >= start,
            Appointment.starts_at < start + timedelta(days=1),
        )
        .order_by(Appointment.starts_at)
    ).first()
    visit = YardVisit(
        warehouse_id=warehouse_id,
        truck_plate=compact,
        appointment_id=appt.id if appt else None,
        owner_company_id=appt.owner_company_id if appt else None,
        checked_in_at=now,
    )
    session.add(visit)
    session.flush()
    return visit


def check_out(session: Session, principal: Principal, warehouse_id: int, plate: str) -> YardVisit:
    """The truck leaves; its appointment is done."""
    ensure_operator(principal, "run the gate")
    compact = normalise_plate(plate) or plate
    visit = session.scalar(
        select(YardVisit).where(
            YardVisit.warehouse_id == warehouse_id,
            YardVisit.truck_plate == compact,
            YardVisit.checked_out_at.is_(None),
        )
    )
    if visit is None:
        raise ValidationFailed.one("truck_plate", f"truck {compact} is not in the yard")
    visit.checked_out_at = utcnow()
    if visit.appointment_id is not None:
        appt = session.get(Appointment, visit.appointment_id)
        if appt is not None and appt.status == "booked":
            appt.status = "done"
    session.flush()
    return visit


def queue(session: Session, principal: Principal, warehouse_id: int) -> list[YardVisitOut]:
    """Trucks in the yard: booked ones by slot, then walk-ins by arrival."""
    stmt = owned(
        select(YardVisit, Appointment, Dock)
        .outerjoin(Appointment, Appointment.id == YardVisit.appointment_id)
        .outerjoin(Dock, Dock.id == Appointment.dock_id)
        .where(YardVisit.warehouse_id == warehouse_id, YardVisit.checked_out_at.is_(None)),
        principal,
        YardVisit.owner_company_id,
    )
    rows = list(session.execute(stmt))
    rows.sort(
        key=lambda r: (
            r[1] is None,
            as_utc(r[1].starts_at) if r[1] is not None else as_utc(r[0].checked_in_at),
            r[0].id,
        )
    )
    return [
        YardVisitOut.model_validate(v).model_copy(
            update={
                "dock_code": d.code if d else None,
                "slot_start": a.starts_at if a else None,
                "position": i + 1,
            }
        )
        for i, (v, a, d) in enumerate(rows)
    ]
