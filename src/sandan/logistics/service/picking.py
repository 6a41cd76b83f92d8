"""Waves, pick lists in walking order, picks (whole or short), packing and shipping.

A pick moves reserved units from the storage bin to the outbound bin through the ledger. A
short pick releases the rest of that reservation. Packing makes the shipment that joint
delivery plans (event `logistics.shipment_ready`); shipping takes the units out of the
warehouse and opens a back order for whatever was not picked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.errors import WrongState
from sandan.logistics.models import (
    Bin,
    Item,
    Lot,
    Order,
    OrderLine,
    Quant,
    Reservation,
    Shipment,
    WarehouseZone,
    Wave,
)
from sandan.logistics.schemas_out import PackIn, PickIn, PickList, PickTask, WaveIn
from sandan.logistics.service.access import ensure_operator, get_owned, owned, table
from sandan.logistics.service.layout import staging_bin
from sandan.logistics.service.ledger import Key, Leg, keep_in_step, lock_levels, lock_one, post
from sandan.logistics.service.outbound import lock_order, release

_RES, _LINES, _ORDERS = table(Reservation), table(OrderLine), table(Order)
_BINS, _QUANTS = table(Bin), table(Quant)
# Built once: a pick runs without statement construction.
_SEEN = (
    select(
        _RES.c.quant_id,
        _LINES.c.id,
        _LINES.c.order_id,
        select(_BINS.c.id)  # the order's warehouse's outbound bin (`staging_bin`)
        .where(_BINS.c.warehouse_id == _ORDERS.c.warehouse_id, _BINS.c.kind == "outbound")
        .order_by(_BINS.c.id)
        .limit(1)
        .scalar_subquery(),
    )
    .select_from(
        _RES.join(_LINES, _LINES.c.id == _RES.c.order_line_id).join(
            _ORDERS, _ORDERS.c.id == _LINES.c.order_id
        )
    )
    .where(_RES.c.id == bindparam("reservation_id"))
)
_RESERVATION = (
    select(Reservation)
    .where(Reservation.id == bindparam("reservation_id"))
    .execution_options(populate_existing=True)
)
_PICKED = (
    update(_LINES)
    .where(_LINES.c.id == bindparam("line_id"))
    .values(qty_picked=_LINES.c.qty_picked + bindparam("units"))
)
_SET_RESERVED = (
    update(_QUANTS)
    .where(_QUANTS.c.id == bindparam("quant_id"))
    .values(reserved=bindparam("reserved"))
)
_TAKEN = (
    update(_RES)
    .where(_RES.c.id == bindparam("reservation_id"))
    .values(qty=0, picked=bindparam("picked"))
)


def create_wave(session: Session, principal: Principal, body: WaveIn) -> Wave:
    """Release reserved orders of one warehouse to the floor together."""
    ensure_operator(principal, "release waves")
    orders = session.scalars(select(Order).where(Order.id.in_(body.order_ids))).all()
    if len(orders) != len(set(body.order_ids)):
        raise ValidationFailed.one("order_ids", "unknown order")
    for o in orders:
        if o.warehouse_id != body.warehouse_id or o.status not in ("open", "reserved"):
            raise ValidationFailed.one("order_ids", f"order {o.ref} is {o.status} or elsewhere")
    wave = Wave(warehouse_id=body.warehouse_id)
    session.add(wave)
    session.flush()
    for o in orders:
        o.wave_id, o.status = wave.id, "picking"
    session.flush()
    return wave


def pick_list(session: Session, principal: Principal, wave_id: int) -> PickList:
    """Open reservations of the wave in walking order: zone by zone, aisle by aisle, racks
    up the odd aisles and down the even ones (serpentine), levels bottom up."""
    ensure_operator(principal, "read pick lists")
    found(session.get(Wave, wave_id), "wave")
    rows = list(
        session.execute(
            select(Reservation, OrderLine, Quant, Bin, WarehouseZone, Item, Lot)
            .join(OrderLine, OrderLine.id == Reservation.order_line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .join(Quant, Quant.id == Reservation.quant_id)
            .join(Bin, Bin.id == Quant.bin_id)
            .join(WarehouseZone, WarehouseZone.id == Bin.zone_id)
            .join(Item, Item.id == Quant.item_id)
            .join(Lot, Lot.id == Quant.lot_id)
            .where(Order.wave_id == wave_id, Reservation.qty > 0)
        )
    )
    rows.sort(
        key=lambda r: (
            r[4].sequence,
            r[4].code,
            r[3].aisle,
            r[3].rack if r[3].aisle % 2 else -r[3].rack,
            r[3].level,
            r[3].code,
            r[0].id,
        )
    )
    tasks = [
        PickTask(
            reservation_id=res.id,
            order_id=line.order_id,
            order_line_id=line.id,
            owner_company_id=quant.owner_company_id,
            item_id=item.id,
            sku=item.sku,
            lot_id=lot.id,
            lot_code=lot.code,
            bin_id=bin_.id,
            bin_code=bin_.code,
            zone=zone.code,
            aisle=bin_.aisle,
            rack=bin_.rack,
            level=bin_.level,
            qty=res.qty,
        )
        for res, line, quant, bin_, zone, item, lot in rows
    ]
    return PickList(wave_id=wave_id, tasks=tasks)


def pick(session: Session, principal: Principal, body: PickIn) -> Reservation:
    """Take reserved units to the outbound bin; fewer than reserved is a short pick."""
    ensure_operator(principal, "pick")
    seen = session.execute(_SEEN, {"reservation_id": body.reservation_id}).first()
    quant_id, line_id, order_id, out_bin = found(seen, "reservation")
    order = lock_order(session, order_id)
    locked = lock_one(session, quant_id)
    assert locked is not None
    key, quant = locked
    res = session.scalar(_RESERVATION, {"reservation_id": body.reservation_id})
    assert res is not None  # read under the locks: a count may have shrunk it
    if order.status not in ("reserved", "picking", "open"):
        raise WrongState(f"order {order.ref} is {order.status}")
    if body.qty > res.qty:
        raise ValidationFailed.one("qty", f"only {res.qty} reserved here")
    item, lot, _, owner = key
    if body.qty:
        if out_bin is None:
            raise ValidationFailed.one("warehouse_id", "the warehouse has no outbound bin")
        levels: dict[Key, list[int]] = {**lock_levels(session, [(item, lot, out_bin, owner)])}
        levels[key] = quant
        leg = Leg(item, lot, owner, key[2], out_bin, body.qty, "pick", f"order {order.ref}", True)
        post(session, principal, [leg], locked=levels)
        session.execute(_PICKED, {"line_id": line_id, "units": body.qty})
    short = res.qty - body.qty
    if short:  # a short pick gives the rest back
        quant[2] -= short
        session.execute(_SET_RESERVED, {"quant_id": quant_id, "reserved": quant[2]})
        keep_in_step(session, Quant, quant_id, reserved=quant[2])
    picked = res.picked + body.qty
    session.execute(_TAKEN, {"reservation_id": res.id, "picked": picked})
    keep_in_step(session, Reservation, res.id, qty=0, picked=picked)
    return res


def pack(session: Session, principal: Principal, order_id: int, body: PackIn) -> Shipment:
    """Close picking of an order: what is picked becomes a shipment ready for delivery."""
    ensure_operator(principal, "pack")
    order = lock_order(session, found(session.get(Order, order_id), "order").id)
    if order.status not in ("picking", "reserved", "open"):
        raise WrongState(f"order {order.ref} is {order.status}")
    lines = session.execute(
        select(OrderLine, Item)
        .join(Item, Item.id == OrderLine.item_id)
        .where(OrderLine.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    if sum(line.qty_picked for line, _ in lines) == 0:
        raise WrongState(f"nothing of order {order.ref} is picked yet")
    release(session, order)  # what was not picked waits for the back order
    shipment = Shipment(
        owner_company_id=order.owner_company_id,
        warehouse_id=order.warehouse_id,
        order_id=order.id,
        ship_to=order.ship_to,
        address=order.address,
        lat=order.lat,
        lon=order.lon,
        ship_date=order.ship_date,
        window_start=order.window_start,
        window_end=order.window_end,
        weight_kg=round(sum(x.qty_picked * i.weight_kg for x, i in lines), 3),
        volume_m3=round(sum(x.qty_picked * i.volume_m3 for x, i in lines), 6),
        packages=body.packages,
    )
    session.add(shipment)
    order.status = "packed"
    session.flush()
    raise_event(
        session,
        "logistics.shipment_ready",
        {
            "shipment_id": shipment.id,
            "owner_company_id": shipment.owner_company_id,
            "warehouse_id": shipment.warehouse_id,
            "ship_date": shipment.ship_date.isoformat(),
            "lat": shipment.lat,
            "lon": shipment.lon,
            "address": shipment.address,
            "window_start": shipment.window_start.isoformat(),
            "window_end": shipment.window_end.isoformat(),
            "weight_kg": shipment.weight_kg,
            "volume_m3": shipment.volume_m3,
        },
    )
    return shipment


def ship(session: Session, principal: Principal, shipment_id: int) -> tuple[Shipment, Order | None]:
    """The truck leaves: picked units leave the ledger; unpicked demand becomes a back order."""
    ensure_operator(principal, "ship")
    shipment = found(session.get(Shipment, shipment_id), "shipment")
    order = lock_order(session, shipment.order_id)
    if shipment.status != "ready":
        raise WrongState(f"shipment {shipment.id} is {shipment.status}")
    out_bin = staging_bin(session, order.warehouse_id, "outbound")
    picked = session.execute(
        select(Reservation, Quant)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Quant, Quant.id == Reservation.quant_id)
        .where(OrderLine.order_id == order.id, Reservation.picked > 0)
        .order_by(Quant.item_id, Quant.lot_id)
    ).all()
    legs: dict[tuple[int, int], int] = {}
    for res, quant in picked:
        legs[(quant.item_id, quant.lot_id)] = (
            legs.get((quant.item_id, quant.lot_id), 0) + res.picked
        )
    post(
        session,
        principal,
        [
            Leg(
                item,
                lot,
                order.owner_company_id,
                out_bin.id,
                None,
                qty,
                "ship",
                f"order {order.ref}",
            )
            for (item, lot), qty in legs.items()
        ],
    )
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    rest = [(x.item_id, x.qty - x.qty_picked) for x in lines if x.qty > x.qty_picked]
    for x in lines:
        x.qty_shipped = x.qty_picked
    now = utcnow()
    shipment.status, shipment.shipped_at, order.status = "shipped", now, "shipped"
    backorder = _backorder(session, order, rest) if rest else None
    session.flush()
    raise_event(
        session,
        "logistics.shipment_shipped",
        {"shipment_id": shipment.id, "owner_company_id": shipment.owner_company_id},
    )
    return shipment, backorder


def _backorder(session: Session, order: Order, rest: list[tuple[int, int]]) -> Order:
    copy = Order(
        owner_company_id=order.owner_company_id,
        warehouse_id=order.warehouse_id,
        ref=f"{order.ref}-BO"[:40],
        ship_to=order.ship_to,
        address=order.address,
        lat=order.lat,
        lon=order.lon,
        ship_date=order.ship_date,
        window_start=order.window_start,
        window_end=order.window_end,
        backorder_of_id=order.id,
    )
    session.add(copy)
    session.flush()
    session.add_all(OrderLine(order_id=copy.id, item_id=i, qty=q) for i, q in rest)
    return copy


def shipments(
    session: Session,
    principal: Principal,
    day: date | None = None,
    status: str | None = None,
    warehouse_id: int | None = None,
) -> Sequence[Shipment]:
    """Shipments the principal may read; joint delivery asks for one day's ready ones."""
    stmt = owned(select(Shipment), principal, Shipment.owner_company_id)
    if day is not None:
        stmt = stmt.where(Shipment.ship_date == day)
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    if warehouse_id is not None:
        stmt = stmt.where(Shipment.warehouse_id == warehouse_id)
    return session.scalars(stmt.order_by(Shipment.id)).all()


def get_shipment(session: Session, principal: Principal, shipment_id: int) -> Shipment:
    return get_owned(session, principal, Shipment, shipment_id)


def delivery_lines(session: Session, shipment: Shipment) -> list[tuple[str, str, str, int]]:
    """SKU, name, lot and quantity of each picked lot, for the delivery note."""
    rows = session.execute(
        select(Item.sku, Item.name, Lot.code, Reservation.picked)
        .select_from(Reservation)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Quant, Quant.id == Reservation.quant_id)
        .join(Item, Item.id == Quant.item_id)
        .join(Lot, Lot.id == Quant.lot_id)
        .where(OrderLine.order_id == shipment.order_id, Reservation.picked > 0)
        .order_by(Item.sku, Lot.code)
    ).all()
    return [(a, b, c, int(d)) for a, b, c, d in rows]
