"""Outbound orders and their reservation.

A reservation takes only the order owner's stock (the owner is part of the query, not a
filter afterwards), in storage bins, skipping expired lots: earliest expiry first (FEFO),
else earliest receipt (FIFO). The order row is locked first, then the quants in (item, id)
order; a pick takes the same locks in the same order, so concurrent clerks neither oversell
nor deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.errors import WrongState
from sandan.logistics.models import Bin, Lot, Order, OrderLine, Quant, Reservation
from sandan.logistics.schemas_out import OrderIn, OrderLineOut, OrderOut
from sandan.logistics.service.access import ensure_owner, get_owned, owned, owner_for, write_lock
from sandan.logistics.service.items import item_of
from sandan.logistics.service.layout import warehouse
from sandan.logistics.service.ledger import lock_by_id
from sandan.logistics.timezone import local_day


def create_order(session: Session, principal: Principal, body: OrderIn) -> Order:
    """A tenant's order for its own items."""
    owner = owner_for(principal, body.owner_company_id)
    warehouse(session, body.warehouse_id)
    for i, line in enumerate(body.lines):
        item_of(session, line.item_id, owner, f"lines.{i}.item_id")
    fields = body.model_dump(exclude={"lines", "owner_company_id"})
    order = Order(owner_company_id=owner, **fields)
    session.add(order)
    session.flush()
    session.add_all(OrderLine(order_id=order.id, item_id=x.item_id, qty=x.qty) for x in body.lines)
    session.flush()
    return order


def list_orders(
    session: Session, principal: Principal, status: str | None = None
) -> Sequence[Order]:
    stmt = owned(select(Order), principal, Order.owner_company_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return session.scalars(stmt.order_by(Order.id)).all()


def order_out(session: Session, order: Order) -> OrderOut:
    """The order with each line's open reservation."""
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    ).all()
    return _out(order, lines, _held(session, [x.id for x in lines]))


def _out(order: Order, lines: Sequence[OrderLine], held: dict[int, int]) -> OrderOut:
    out = [
        OrderLineOut.model_validate(x).model_copy(update={"qty_reserved": held.get(x.id, 0)})
        for x in sorted(lines, key=lambda x: x.id)
    ]
    return OrderOut.model_validate(order).model_copy(update={"lines": out})


def get_order(session: Session, principal: Principal, order_id: int) -> OrderOut:
    return order_out(session, get_owned(session, principal, Order, order_id))


def lock_order(session: Session, order_id: int, principal: Principal | None = None) -> Order:
    """The order row, locked: every stock change of one order goes through here first. With
    a principal, an order it may not read is NotFound (and is not locked)."""
    write_lock(session)
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if principal is not None:
        return found(session.scalar(owned(stmt, principal, Order.owner_company_id)), "order")
    order = session.scalar(stmt)
    assert order is not None
    return order


def reserve(session: Session, principal: Principal, order_id: int) -> OrderOut:
    """Reserve what the owner has for every open line (FEFO, else FIFO); short lines stay open."""
    order = lock_order(session, order_id, principal)
    ensure_owner(principal, order.owner_company_id)
    if order.status not in ("open", "reserved"):
        raise WrongState(f"order {order.ref} is {order.status}")
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.item_id, OrderLine.id)
    ).all()
    rows = {
        (r.order_line_id, r.quant_id): r
        for r in session.scalars(
            select(Reservation).where(Reservation.order_line_id.in_([x.id for x in lines]))
        )
    }
    held = {x.id: 0 for x in lines}
    for r in rows.values():
        held[r.order_line_id] += r.qty
    today = local_day(utcnow())
    complete = True
    for line in lines:
        need = line.qty - line.qty_picked - held[line.id]
        if need <= 0:
            continue
        for quant, _lot in _candidates(
            session, line.item_id, order.owner_company_id, order.warehouse_id, today
        ):
            take = min(need, quant.on_hand - quant.reserved)
            if take <= 0:
                continue
            quant.reserved += take
            _add_reservation(session, rows, line.id, quant, take)
            held[line.id] += take
            need -= take
            if need == 0:
                break
        complete = complete and need == 0
    order.status = "reserved" if complete else "open"
    session.flush()
    return _out(order, lines, held)


def _held(session: Session, line_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Reservation.order_line_id, func.sum(Reservation.qty))
        .where(Reservation.order_line_id.in_(line_ids))
        .group_by(Reservation.order_line_id)
    )
    return {int(a): int(b or 0) for a, b in rows}


def _candidates(
    session: Session, item_id: int, owner_id: int, warehouse_id: int, today: date
) -> list[tuple[Quant, Lot]]:
    """The owner's free stock of the item in storage bins, locked, in FEFO/FIFO order."""
    rows = session.execute(
        select(Quant, Lot)
        .join(Lot, Lot.id == Quant.lot_id)
        .join(Bin, Bin.id == Quant.bin_id)
        .where(
            Quant.item_id == item_id,
            Quant.owner_company_id == owner_id,
            Bin.warehouse_id == warehouse_id,
            Bin.kind == "storage",
            Quant.on_hand > Quant.reserved,
        )
        .order_by(Quant.item_id, Quant.id)
        .with_for_update(of=Quant, key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    fresh = [(q, lot) for q, lot in rows if lot.expiry is None or lot.expiry >= today]
    fresh.sort(key=lambda r: (r[1].expiry is None, r[1].expiry or today, r[1].received_at, r[0].id))
    return fresh


def _add_reservation(
    session: Session,
    rows: dict[tuple[int, int], Reservation],
    line_id: int,
    quant: Quant,
    qty: int,
) -> None:
    """Grow the line's reservation on this quant, or start one (`rows`: the order's own)."""
    row = rows.get((line_id, quant.id))
    if row is None:
        rows[(line_id, quant.id)] = row = Reservation(
            order_line_id=line_id,
            quant_id=quant.id,
            owner_company_id=quant.owner_company_id,
            qty=0,
            picked=0,
        )
        session.add(row)
    row.qty += qty


def release(session: Session, order: Order) -> None:
    """Give back every open reservation of the (already locked) order."""
    rows = (
        session.execute(
            select(Reservation)
            .join(OrderLine, OrderLine.id == Reservation.order_line_id)
            .where(OrderLine.order_id == order.id, Reservation.qty > 0)
        )
        .scalars()
        .all()
    )
    if not rows:
        return
    quants = lock_by_id(session, [r.quant_id for r in rows])
    for r in rows:
        quants[r.quant_id].reserved -= r.qty
        r.qty = 0
    session.flush()


def cancel(session: Session, principal: Principal, order_id: int) -> OrderOut:
    """Cancel an order that has not been picked; its reservations are released."""
    visible = get_owned(session, principal, Order, order_id)
    ensure_owner(principal, visible.owner_company_id)
    order = lock_order(session, visible.id)
    picked = session.scalar(
        select(func.sum(OrderLine.qty_picked)).where(OrderLine.order_id == order.id)
    )
    if order.status in ("packed", "shipped", "cancelled") or (picked or 0) > 0:
        raise WrongState(f"order {order.ref} is {order.status} and cannot be cancelled")
    release(session, order)
    order.status = "cancelled"
    session.flush()
    return order_out(session, order)
