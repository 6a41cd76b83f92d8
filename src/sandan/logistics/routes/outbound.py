"""Routes of outbound: orders, reservation, waves, pick lists, picks, packing, shipping."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from sandan.core.http import DbSession
from sandan.core.types import IdPath
from sandan.logistics import documents
from sandan.logistics.routes.deps import Operator, Orderer, Reader
from sandan.logistics.schemas_out import (
    OrderIn,
    OrderOut,
    PackIn,
    PickIn,
    PickList,
    ShipmentOut,
    WaveIn,
    WaveOut,
)
from sandan.logistics.service import outbound, picking
from sandan.registry.service import company_profiles

router = APIRouter()


@router.post("/orders", status_code=201)
def create_order(body: OrderIn, session: DbSession, principal: Orderer) -> OrderOut:
    """Place an outbound order for the owner's items."""
    return outbound.order_out(session, outbound.create_order(session, principal, body))


@router.get("/orders")
def list_orders(session: DbSession, principal: Reader, status: str | None = None) -> list[OrderOut]:
    """Orders of the owners the caller may read."""
    return [
        outbound.order_out(session, o) for o in outbound.list_orders(session, principal, status)
    ]


@router.get("/orders/{order_id}")
def get_order(order_id: IdPath, session: DbSession, principal: Reader) -> OrderOut:
    """One order with reserved, picked and shipped per line."""
    return outbound.get_order(session, principal, order_id)


@router.post("/orders/{order_id}/reserve")
def reserve(order_id: IdPath, session: DbSession, principal: Orderer) -> OrderOut:
    """Reserve the owner's own stock for the order (FEFO, else FIFO)."""
    return outbound.reserve(session, principal, order_id)


@router.post("/orders/{order_id}/cancel")
def cancel(order_id: IdPath, session: DbSession, principal: Orderer) -> OrderOut:
    """Cancel an unpicked order and release its reservations."""
    return outbound.cancel(session, principal, order_id)


@router.post("/waves", status_code=201)
def create_wave(body: WaveIn, session: DbSession, principal: Operator) -> WaveOut:
    """Release orders to the floor as one wave."""
    return WaveOut.model_validate(picking.create_wave(session, principal, body))


@router.get("/waves/{wave_id}/picklist")
def pick_list(wave_id: IdPath, session: DbSession, principal: Operator) -> PickList:
    """The wave's picks in walking order (serpentine aisles)."""
    return picking.pick_list(session, principal, wave_id)


@router.post("/picks")
def pick(body: PickIn, session: DbSession, principal: Operator) -> dict[str, int]:
    """Confirm a pick; fewer units than reserved is a short pick."""
    res = picking.pick(session, principal, body)
    return {"reservation_id": res.id, "picked": res.picked}


@router.post("/orders/{order_id}/pack", status_code=201)
def pack(order_id: IdPath, body: PackIn, session: DbSession, principal: Operator) -> ShipmentOut:
    """Pack what is picked into a shipment ready for (joint) delivery."""
    return ShipmentOut.model_validate(picking.pack(session, principal, order_id, body))


@router.get("/shipments")
def list_shipments(
    session: DbSession,
    principal: Reader,
    day: date | None = None,
    status: str | None = None,
    warehouse_id: int | None = None,
) -> list[ShipmentOut]:
    """Shipments of the owners the caller may read."""
    rows = picking.shipments(session, principal, day, status, warehouse_id)
    return [ShipmentOut.model_validate(s) for s in rows]


@router.get("/shipments/{shipment_id}")
def get_shipment(shipment_id: IdPath, session: DbSession, principal: Reader) -> ShipmentOut:
    """One shipment."""
    return ShipmentOut.model_validate(picking.get_shipment(session, principal, shipment_id))


@router.post("/shipments/{shipment_id}/ship")
def ship(shipment_id: IdPath, session: DbSession, principal: Operator) -> ShipmentOut:
    """The shipment leaves; unpicked demand becomes a back order."""
    shipment, backorder = picking.ship(session, principal, shipment_id)
    out = ShipmentOut.model_validate(shipment)
    return out.model_copy(update={"backorder_id": backorder.id if backorder else None})


@router.get("/shipments/{shipment_id}/delivery-note.pdf")
def delivery_note(shipment_id: IdPath, session: DbSession, principal: Reader) -> Response:
    """The delivery note of a shipment as PDF."""
    shipment = picking.get_shipment(session, principal, shipment_id)
    owner = company_profiles(session, [shipment.owner_company_id])
    name = owner[shipment.owner_company_id].name if owner else ""
    pdf = documents.delivery_note_pdf(
        ShipmentOut.model_validate(shipment), name, picking.delivery_lines(session, shipment)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="delivery-{shipment.id}.pdf"'},
    )
