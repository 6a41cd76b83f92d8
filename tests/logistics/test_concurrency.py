"""Sixteen clerks at once reserve and pick the same item: every unit is promised at most
once (no overselling), no write is lost (reserved + picked = min(demand, stock)), and the
ledger still equals the stock levels. On PostgreSQL this rests on row locks taken in a
stable order; on SQLite on the serialised write transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from stock_floor import service_floor

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics import schemas, schemas_out
from sandan.logistics.models import OrderLine, Quant, Reservation
from sandan.logistics.service import inbound, outbound, picking, putaway
from sandan.logistics.service.ledger import reconcile

CLERKS, DEMAND, STOCK = 16, 9, 100  # 144 units asked for, 100 there
SYSTEM = Principal.system("clerk")


def run_clerks(work: Callable[[int], None]) -> list[BaseException]:
    """Start every clerk at the same moment; collect what any of them raised."""
    start, errors = threading.Barrier(CLERKS), []

    def clerk(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(CLERKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_sixteen_clerks_neither_oversell_nor_lose_updates(ctx: Context, world: World) -> None:
    owner = world.companies["A"]
    floor = service_floor(ctx, [owner])
    item = floor.items[owner][0]
    with ctx.db.unit(SYSTEM) as s:  # 100 units over three bins
        got = inbound.receive(
            s,
            SYSTEM,
            schemas.ReceiveIn(
                warehouse_id=floor.warehouse_id,
                owner_company_id=owner,
                lines=[schemas.ReceiveLineIn(item_id=item, qty_good=STOCK)],
            ),
        )
        lot = got.lines[0].lot_id
        for bin_id, qty in zip(floor.storage, (40, 35, 25), strict=True):
            putaway.move(
                s,
                SYSTEM,
                schemas.StockLeg(
                    item_id=item,
                    lot_id=lot,
                    owner_company_id=owner,
                    from_bin_id=floor.receiving,
                    to_bin_id=bin_id,
                    qty=qty,
                ),
            )
    now = utcnow()

    def clerk(n: int) -> None:
        with ctx.db.unit(SYSTEM) as s:
            order = outbound.create_order(
                s,
                SYSTEM,
                schemas_out.OrderIn(
                    owner_company_id=owner,
                    warehouse_id=floor.warehouse_id,
                    ref=f"C{n}",
                    ship_to="x",
                    lat=36.0,
                    lon=128.0,
                    ship_date=now.date(),
                    window_start=now,
                    window_end=now + timedelta(hours=1),
                    lines=[schemas_out.OrderLineIn(item_id=item, qty=DEMAND)],
                ),
            )
        with ctx.db.unit(SYSTEM) as s:
            outbound.reserve(s, SYSTEM, order.id)
        with ctx.db.unit(SYSTEM) as s:
            mine = s.scalars(
                select(Reservation)
                .join(OrderLine, OrderLine.id == Reservation.order_line_id)
                .where(OrderLine.order_id == order.id, Reservation.qty > 0)
            ).all()
        for r in mine:  # pick each reservation in its own transaction, like a scanner
            with ctx.db.unit(SYSTEM) as s:
                picking.pick(s, SYSTEM, schemas_out.PickIn(reservation_id=r.id, qty=r.qty))

    errors = run_clerks(clerk)
    assert errors == []
    with ctx.db.unit(SYSTEM) as s:
        picked = s.scalar(select(func.sum(OrderLine.qty_picked))) or 0
        still_reserved = s.scalar(select(func.sum(Reservation.qty))) or 0
        assert picked + still_reserved == min(CLERKS * DEMAND, STOCK)
        assert still_reserved == 0 and picked == STOCK
        storage = s.execute(
            select(func.sum(Quant.on_hand), func.sum(Quant.reserved)).where(
                Quant.bin_id.in_(floor.storage)
            )
        ).one()
        assert tuple(storage) == (0, 0)
        staged = s.scalar(select(Quant.on_hand).where(Quant.bin_id == floor.outbound))
        assert staged == STOCK
        lines = s.scalars(select(OrderLine.qty_picked)).all()
        assert len(lines) == CLERKS and all(0 <= q <= DEMAND for q in lines)
        report = reconcile(s)
        assert report.ok, report.mismatches
