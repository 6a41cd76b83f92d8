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
from typing import NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.errors import WrongState
from sandan.logistics.models import Bin, Item, Lot, Order, OrderLine, Quant, Reservation, Warehouse
from sandan.logistics.schemas_out import OrderIn, OrderLineOut, OrderOut
from sandan.logistics.service.access import (
    ensure_owner,
    get_owned,
    owned,
    owner_for,
    table,
    write_lock,
)
from sandan.logistics.service.items import owned_item
from sandan.logistics.service.ledger import keep_in_step, lock_by_id
from sandan.logistics.timezone import local_day


class _Line(NamedTuple):
    id: int
    item_id: int
    qty: int
    qty_picked: int
    qty_shipped: int


_W, _I, _O, _L = table(Warehouse), table(Item), table(Order), table(OrderLine)
_Q, _LOT, _B, _R = table(Quant), table(Lot), table(Bin), table(Reservation)
# Built once: the hot paths of ordering and reserving run without statement construction.
_REFS = (
    select(_W.c.id, _I.c.id, _I.c.owner_company_id, _I.c.sku, _I.c.tracking)
    .select_from(_W.outerjoin(_I, _I.c.id.in_(bindparam("item_ids", expanding=True))))
    .where(_W.c.id == bindparam("warehouse_id"))
)
_ADD_LINES = insert(_L)
_LOCK_ORDER = (
    select(Order)
    .where(Order.id == bindparam("order_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
_LINES_HELD = (
    select(
        _L.c.id,
        _L.c.item_id,
        _L.c.qty,
        _L.c.qty_picked,
        _L.c.qty_shipped,
        _R.c.id,
        _R.c.quant_id,
        _R.c.qty,
    )
    .select_from(_L.outerjoin(_R, _R.c.order_line_id == _L.c.id))
    .where(_L.c.order_id == bindparam("order_id"))
    .order_by(_L.c.item_id, _L.c.id, _R.c.id)
)
_CANDIDATES = (
    select(
        _Q.c.id,
        _Q.c.owner_company_id,
        _Q.c.on_hand,
        _Q.c.reserved,
        _LOT.c.expiry,
        _LOT.c.received_at,
    )
    .select_from(_Q.join(_LOT, _LOT.c.id == _Q.c.lot_id).join(_B, _B.c.id == _Q.c.bin_id))
    .where(
        _Q.c.item_id == bindparam("item_id"),
        _Q.c.owner_company_id == bindparam("owner_id"),
        _B.c.warehouse_id == bindparam("warehouse_id"),
        _B.c.kind == "storage",
        _Q.c.on_hand > _Q.c.reserved,
    )
    .order_by(_Q.c.item_id, _Q.c.id)
    .with_for_update(of=_Q, key_share=True)
)
_SET_STATUS = update(_O).where(_O.c.id == bindparam("order_id")).values(status=bindparam("status"))
_SET_RESERVED = (
    update(_Q).where(_Q.c.id == bindparam("quant_id")).values(reserved=bindparam("reserved"))
)
_ADD_RESERVATIONS = insert(_R)
_SET_RESERVATION = (
    update(_R).where(_R.c.id == bindparam("reservation_id")).values(qty=bindparam("qty"))
)


def create_order(session: Session, principal: Principal, body: OrderIn) -> Order:
    """A tenant's order for its own items."""
    owner = owner_for(principal, body.owner_company_id)
    _check_refs(session, body, owner)
    fields = body.model_dump(exclude={"lines", "owner_company_id"})
    order = Order(owner_company_id=owner, **fields)
    session.add(order)
    session.flush()
    session.execute(
        _ADD_LINES,
        [
            {"order_id": order.id, "item_id": x.item_id, "qty": x.qty, "qty_picked": 0}
            | {"qty_shipped": 0}
            for x in body.lines
        ],
    )
    return order


def _check_refs(session: Session, body: OrderIn, owner: int) -> None:
    """The warehouse exists and every line names one of the owner's items (one query)."""
    rows = session.execute(
        _REFS,
        {"warehouse_id": body.warehouse_id, "item_ids": sorted({x.item_id for x in body.lines})},
    ).all()
    found(rows[0] if rows else None, "warehouse")
    items = {r[1]: r[1:] for r in rows if r[1] is not None}
    for i, line in enumerate(body.lines):
        owned_item(items.get(line.item_id), line.item_id, owner, f"lines.{i}.item_id")


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


def _out(order: Order, lines: Sequence[OrderLine | _Line], held: dict[int, int]) -> OrderOut:
    out = [
        OrderLineOut(
            id=x.id,
            item_id=x.item_id,
            qty=x.qty,
            qty_reserved=held.get(x.id, 0),
            qty_picked=x.qty_picked,
            qty_shipped=x.qty_shipped,
        )
        for x in sorted(lines, key=lambda x: x.id)
    ]
    return OrderOut.model_validate(order).model_copy(update={"lines": out})


def get_order(session: Session, principal: Principal, order_id: int) -> OrderOut:
    return order_out(session, get_owned(session, principal, Order, order_id))


def lock_order(session: Session, order_id: int, principal: Principal | None = None) -> Order:
    """The order row, locked: every stock change of one order goes through here first. With
    a principal, an order it may not read is NotFound (and is not locked)."""
    write_lock(session)
    params = {"order_id": order_id}
    if principal is not None:
        stmt = owned(_LOCK_ORDER, principal, Order.owner_company_id)
        return found(session.scalar(stmt, params), "order")
    order = session.scalar(_LOCK_ORDER, params)
    assert order is not None
    return order


def reserve(session: Session, principal: Principal, order_id: int) -> OrderOut:
    """Reserve what the owner has for every open line (FEFO, else FIFO); short lines stay open."""
    order = lock_order(session, order_id, principal)
    ensure_owner(principal, order.owner_company_id)
    if order.status not in ("open", "reserved"):
        raise WrongState(f"order {order.ref} is {order.status}")
    lines: list[_Line] = []
    rows: dict[tuple[int, int], list[int]] = {}  # (line, quant): [reservation id, qty, grown]
    held: dict[int, int] = {}
    for r in session.execute(_LINES_HELD, {"order_id": order.id}):
        if r[0] not in held:
            lines.append(_Line(r[0], r[1], r[2], r[3], r[4]))
            held[r[0]] = 0
        if r[5] is not None:
            rows[(r[0], r[6])] = [r[5], r[7], 0]
            held[r[0]] += r[7]
    today = local_day(utcnow())
    taken: dict[int, list[int]] = {}  # quant: [owner, reserved], as this reservation leaves it
    complete = True
    for line in lines:
        need = line.qty - line.qty_picked - held[line.id]
        if need <= 0:
            continue
        for quant_id, owner, on_hand, reserved in _candidates(
            session, line.item_id, order.owner_company_id, order.warehouse_id, today
        ):
            reserved = taken[quant_id][1] if quant_id in taken else reserved
            take = min(need, on_hand - reserved)
            if take <= 0:
                continue
            taken[quant_id] = [owner, reserved + take]
            _add_reservation(rows, line.id, quant_id, take)
            held[line.id] += take
            need -= take
            if need == 0:
                break
        complete = complete and need == 0
    status = "reserved" if complete else "open"
    if status != order.status:
        session.execute(_SET_STATUS, {"order_id": order.id, "status": status})
        keep_in_step(session, Order, order.id, status=status)
    if taken:
        session.execute(
            _SET_RESERVED, [{"quant_id": q, "reserved": n} for q, (_, n) in taken.items()]
        )
        for q, (_, n) in taken.items():
            keep_in_step(session, Quant, q, reserved=n)
    _write_reservations(session, rows, {q: o for q, (o, _) in taken.items()})
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
) -> list[tuple[int, int, int, int]]:
    """The owner's free stock of the item in storage bins, locked, in FEFO/FIFO order:
    (quant id, owner, on hand, reserved)."""
    rows = session.execute(
        _CANDIDATES, {"item_id": item_id, "owner_id": owner_id, "warehouse_id": warehouse_id}
    ).all()
    for r in rows:  # as populate_existing refreshed the locked entities
        keep_in_step(session, Quant, r[0], on_hand=r[2], reserved=r[3])
    fresh = [r for r in rows if r[4] is None or r[4] >= today]
    fresh.sort(key=lambda r: (r[4] is None, r[4] or today, r[5], r[0]))
    return [(r[0], r[1], r[2], r[3]) for r in fresh]


def _add_reservation(
    rows: dict[tuple[int, int], list[int]], line_id: int, quant_id: int, qty: int
) -> None:
    """Grow the line's reservation on this quant, or start one (`rows`: the order's own;
    a new one has no id yet)."""
    row = rows.setdefault((line_id, quant_id), [0, 0, 0])
    row[1] += qty
    row[2] = 1


def _write_reservations(
    session: Session, rows: dict[tuple[int, int], list[int]], owners: dict[int, int]
) -> None:
    """Insert the new reservations and write the grown ones."""
    grown = [(k, v) for k, v in rows.items() if v[2]]
    fresh = [
        {
            "order_line_id": line,
            "quant_id": quant,
            "owner_company_id": owners[quant],
            "qty": v[1],
            "picked": 0,
        }
        for (line, quant), v in grown
        if v[0] == 0
    ]
    if fresh:
        session.execute(_ADD_RESERVATIONS, fresh)
    old = [{"reservation_id": v[0], "qty": v[1]} for _, v in grown if v[0] != 0]
    if old:
        session.execute(_SET_RESERVATION, old)
        for r in old:
            keep_in_step(session, Reservation, r["reservation_id"], qty=r["qty"])


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
