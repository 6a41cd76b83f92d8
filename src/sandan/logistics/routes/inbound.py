"""Routes of inbound: items, ASNs, dock appointments, receiving, putaway and the yard."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from sandan.core.http import DbSession
from sandan.core.types import IdPath
from sandan.logistics.routes.deps import Operator, Orderer, Reader
from sandan.logistics.schemas import (
    AppointmentIn,
    AppointmentOut,
    AsnIn,
    AsnOut,
    ItemIn,
    ItemOut,
    ReceiptOut,
    ReceiveIn,
    StockLeg,
    Suggestion,
)
from sandan.logistics.schemas_out import CheckInIn, YardVisitOut
from sandan.logistics.service import docks, inbound, items, putaway

router = APIRouter()


@router.post("/items", status_code=201)
def create_item(body: ItemIn, session: DbSession, principal: Orderer) -> ItemOut:
    """Register an item (SKU, GTIN with a valid check digit, size, weight, tracking)."""
    return ItemOut.model_validate(items.create_item(session, principal, body))


@router.get("/items")
def list_items(session: DbSession, principal: Reader) -> list[ItemOut]:
    """Items of the owners the caller may read."""
    return [ItemOut.model_validate(i) for i in items.list_items(session, principal)]


@router.get("/items/{item_id}")
def get_item(item_id: IdPath, session: DbSession, principal: Reader) -> ItemOut:
    """One item."""
    return ItemOut.model_validate(items.get_item(session, principal, item_id))


@router.post("/asns", status_code=201)
def create_asn(body: AsnIn, session: DbSession, principal: Orderer) -> AsnOut:
    """Announce a delivery (advance shipping notice)."""
    return inbound.asn_out(session, inbound.create_asn(session, principal, body))


@router.get("/asns")
def list_asns(session: DbSession, principal: Reader, status: str | None = None) -> list[AsnOut]:
    """ASNs of the owners the caller may read."""
    return [inbound.asn_out(session, a) for a in inbound.list_asns(session, principal, status)]


@router.get("/asns/{asn_id}")
def get_asn(asn_id: IdPath, session: DbSession, principal: Reader) -> AsnOut:
    """One ASN with received, damaged, over and short per line."""
    return inbound.get_asn(session, principal, asn_id)


@router.post("/appointments", status_code=201)
def book(body: AppointmentIn, session: DbSession, principal: Orderer) -> AppointmentOut:
    """Book a dock slot; 409 names the clashing booking when the dock is full."""
    return AppointmentOut.model_validate(docks.book(session, principal, body))


@router.get("/appointments")
def list_appointments(
    session: DbSession, principal: Reader, day: date | None = None, dock_id: int | None = None
) -> list[AppointmentOut]:
    """Appointments (the dock calendar) of the owners the caller may read."""
    rows = docks.appointments(session, principal, day, dock_id)
    return [AppointmentOut.model_validate(a) for a in rows]


@router.post("/appointments/{appointment_id}/cancel")
def cancel_appointment(
    appointment_id: IdPath, session: DbSession, principal: Orderer
) -> AppointmentOut:
    """Give a booked slot back."""
    return AppointmentOut.model_validate(docks.cancel(session, principal, appointment_id))


@router.post("/receipts", status_code=201)
def receive(body: ReceiveIn, session: DbSession, principal: Operator) -> ReceiptOut:
    """Receive goods against an ASN or blind; damaged units are recorded, not stocked."""
    return inbound.receive(session, principal, body)


@router.get("/warehouses/{warehouse_id}/putaway")
def putaway_suggestions(
    warehouse_id: IdPath, session: DbSession, principal: Operator
) -> list[Suggestion]:
    """Where the goods waiting in receiving should go, and by which rule."""
    return putaway.suggest(session, principal, warehouse_id)


@router.post("/putaway", status_code=201)
def confirm_putaway(body: StockLeg, session: DbSession, principal: Operator) -> dict[str, int]:
    """Confirm a putaway; the bin must accept the goods and have room."""
    return {"movement_id": putaway.move(session, principal, body, "putaway")}


@router.post("/moves", status_code=201)
def move(body: StockLeg, session: DbSession, principal: Operator) -> dict[str, int]:
    """Move free stock between bins."""
    return {"movement_id": putaway.move(session, principal, body, "move")}


@router.post("/yard/check-in", status_code=201)
def check_in(body: CheckInIn, session: DbSession, principal: Operator) -> YardVisitOut:
    """A truck arrives at the gate (matched to today's booking of its plate)."""
    visit = docks.check_in(session, principal, body.warehouse_id, body.truck_plate)
    return YardVisitOut.model_validate(visit)


@router.post("/yard/check-out")
def check_out(body: CheckInIn, session: DbSession, principal: Operator) -> YardVisitOut:
    """A truck leaves the yard."""
    visit = docks.check_out(session, principal, body.warehouse_id, body.truck_plate)
    return YardVisitOut.model_validate(visit)


@router.get("/warehouses/{warehouse_id}/yard")
def yard_queue(warehouse_id: IdPath, session: DbSession, principal: Reader) -> list[YardVisitOut]:
    """Trucks in the yard in queue order."""
    return docks.queue(session, principal, warehouse_id)
