"""Random sequences of receive, move, reserve, pick, ship, adjust and count against the real
services and database. After every step: no quant is negative, none has more reserved than
on hand, and every stock level equals the sum of the ledger (and every reserved figure the
sum of the open reservations). Refused steps (a shortage, a full bin, a wrong state) must
roll back whole."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from stock_floor import service_floor

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.core.identity.principal import Principal
from sandan.logistics import schemas, schemas_out
from sandan.logistics.models import Order, OrderLine, Quant, Reservation
from sandan.logistics.service import inbound, inventory, outbound, picking, putaway
from sandan.logistics.service.ledger import reconcile

SYSTEM = Principal.system("machine")


def test_stock_invariants_hold_after_every_step(ctx: Context, world: World) -> None:
    owners = [world.companies["A"], world.companies["B"]]
    done: dict[str, int] = {}  # successful steps by rule, over every example

    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.floor = service_floor(ctx, owners)
            self.orders = 0
            self.refused = 0

        def _do(self, fn: object) -> None:
            name = sys._getframe(1).f_code.co_name
            try:
                with ctx.db.unit(SYSTEM) as s:
                    fn(s)  # type: ignore[operator]
                done[name] = done.get(name, 0) + 1
            except SandanError:
                self.refused += 1  # a refusal is fine; the unit rolled back

        @initialize()
        def stock_up(self) -> None:
            """Each owner starts with both items on the shelves."""
            for owner in (0, 1):
                for which in (0, 1):
                    self.receive(owner, which, 20, which == 0, 2 * owner)

        def _quants(self, bins: list[int] | None = None) -> list[Quant]:
            with ctx.db.unit(SYSTEM) as s:
                stmt = select(Quant).where(Quant.on_hand > 0)
                stmt = stmt.where(Quant.bin_id.in_(bins or self._bins()))
                return list(s.scalars(stmt.order_by(Quant.id)))

        def _bins(self) -> list[int]:
            f = self.floor
            return [f.receiving, f.outbound, *f.storage]

        @rule(
            owner=st.integers(0, 1),
            which=st.integers(0, 1),
            qty=st.integers(1, 30),
            soon=st.booleans(),
            store=st.sampled_from([None, 0, 1, 2]),
        )
        def receive(self, owner: int, which: int, qty: int, soon: bool, store: int | None) -> None:
            """Goods in at the dock, often put away into a storage bin in the same step."""
            o = owners[owner]
            item = self.floor.items[o][which]
            line = schemas.ReceiveLineIn(
                item_id=item,
                qty_good=qty,
                lot_code="L1" if soon else "L2",
                expiry=date(2099, 1, 1) if soon else date(2099, 6, 1),
            )
            body = schemas.ReceiveIn(
                warehouse_id=self.floor.warehouse_id, owner_company_id=o, lines=[line]
            )

            def run(s: Session) -> None:
                got = inbound.receive(s, SYSTEM, body)
                if store is not None:
                    leg = schemas.StockLeg(
                        item_id=item,
                        lot_id=got.lines[0].lot_id,
                        owner_company_id=o,
                        from_bin_id=self.floor.receiving,
                        to_bin_id=self.floor.storage[store],
                        qty=qty,
                    )
                    putaway.move(s, SYSTEM, leg)

            self._do(run)

        @rule(pick=st.integers(0, 50), to=st.integers(0, 2), qty=st.integers(1, 40))
        def move(self, pick: int, to: int, qty: int) -> None:
            quants = self._quants([self.floor.receiving, *self.floor.storage])
            if not quants:
                return
            q = quants[pick % len(quants)]
            leg = schemas.StockLeg(
                item_id=q.item_id,
                lot_id=q.lot_id,
                owner_company_id=q.owner_company_id,
                from_bin_id=q.bin_id,
                to_bin_id=self.floor.storage[to],
                qty=qty,
            )
            self._do(lambda s: putaway.move(s, SYSTEM, leg, "move"))

        @rule(owner=st.integers(0, 1), which=st.integers(0, 1), qty=st.integers(1, 40))
        def reserve(self, owner: int, which: int, qty: int) -> None:
            o = owners[owner]
            self.orders += 1
            now = utcnow()
            body = schemas_out.OrderIn(
                owner_company_id=o,
                warehouse_id=self.floor.warehouse_id,
                ref=f"O{self.orders}",
                ship_to="x",
                lat=36.0,
                lon=128.0,
                ship_date=now.date(),
                window_start=now,
                window_end=now + timedelta(hours=2),
                lines=[schemas_out.OrderLineIn(item_id=self.floor.items[o][which], qty=qty)],
            )

            def place(s: object) -> None:
                order = outbound.create_order(s, SYSTEM, body)  # type: ignore[arg-type]
                outbound.reserve(s, SYSTEM, order.id)  # type: ignore[arg-type]

            self._do(place)

        @rule(pick=st.integers(0, 50), fraction=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
        def pick(self, pick: int, fraction: float) -> None:
            with ctx.db.unit(SYSTEM) as s:
                open_ = list(
                    s.scalars(
                        select(Reservation)
                        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
                        .join(Order, Order.id == OrderLine.order_id)
                        .where(Reservation.qty > 0, Order.warehouse_id == self.floor.warehouse_id)
                        .order_by(Reservation.id)
                    )
                )
            if not open_:
                return
            r = open_[pick % len(open_)]
            body = schemas_out.PickIn(reservation_id=r.id, qty=int(r.qty * fraction))
            self._do(lambda s: picking.pick(s, SYSTEM, body))

        @rule(pick=st.integers(0, 50))
        def ship(self, pick: int) -> None:
            with ctx.db.unit(SYSTEM) as s:
                ids = list(
                    s.scalars(
                        select(Order.id)
                        .join(OrderLine, OrderLine.order_id == Order.id)
                        .join(Reservation, Reservation.order_line_id == OrderLine.id)
                        .where(
                            Order.warehouse_id == self.floor.warehouse_id,
                            Order.status.in_(("open", "reserved", "picking")),
                            (OrderLine.qty_picked > 0) | (Reservation.qty > 0),
                        )
                        .distinct()
                        .order_by(Order.id)
                    )
                )
            if not ids:
                return
            order_id = ids[pick % len(ids)]

            def pack_and_ship(s: Session) -> None:
                """Pick what is still reserved on the order, then pack and ship it."""
                for r in s.scalars(
                    select(Reservation)
                    .join(OrderLine, OrderLine.id == Reservation.order_line_id)
                    .where(OrderLine.order_id == order_id, Reservation.qty > 0)
                ).all():
                    picking.pick(s, SYSTEM, schemas_out.PickIn(reservation_id=r.id, qty=r.qty))
                shipment = picking.pack(s, SYSTEM, order_id, schemas_out.PackIn())
                picking.ship(s, SYSTEM, shipment.id)

            self._do(pack_and_ship)

        @rule(pick=st.integers(0, 50), delta=st.integers(-20, 20))
        def adjust(self, pick: int, delta: int) -> None:
            quants = self._quants()
            if not quants or delta == 0:
                return
            q = quants[pick % len(quants)]
            body = schemas.AdjustIn(
                item_id=q.item_id,
                lot_id=q.lot_id,
                owner_company_id=q.owner_company_id,
                bin_id=q.bin_id,
                delta=delta,
                reason="test",
            )
            self._do(lambda s: inventory.adjust(s, SYSTEM, body))

        @rule(b=st.integers(0, 2), diffs=st.lists(st.integers(-3, 3), min_size=0, max_size=4))
        def count(self, b: int, diffs: list[int]) -> None:
            """Count a bin: the first quants found a little off, the rest as booked."""
            bin_id = self.floor.storage[b]
            quants = self._quants([bin_id])
            lines = [
                schemas_out.CountLineIn(
                    bin_id=bin_id,
                    item_id=q.item_id,
                    lot_id=q.lot_id,
                    owner_company_id=q.owner_company_id,
                    counted=max(0, q.on_hand + d),
                )
                for q, d in zip(quants, diffs + [0] * len(quants), strict=False)
            ]

            def run(s: object) -> None:
                task = inventory.create_count(
                    s,
                    SYSTEM,
                    schemas_out.CountIn(warehouse_id=self.floor.warehouse_id, bin_ids=[bin_id]),
                )  # type: ignore[arg-type]
                inventory.submit_count(s, SYSTEM, task.id, lines)  # type: ignore[arg-type]

            self._do(run)

        @invariant()
        def stock_is_consistent(self) -> None:
            with ctx.db.unit(SYSTEM) as s:
                rows = s.execute(select(Quant.on_hand, Quant.reserved)).all()
                assert all(on_hand >= 0 and 0 <= reserved <= on_hand for on_hand, reserved in rows)
                report = reconcile(s)
                assert report.ok, report.mismatches

    run_state_machine_as_test(
        StockMachine,
        # Derandomized: the last assertion (every kind of step succeeded at least once) is
        # about the run, and a random run can by chance never ship (one did, locally).
        settings=settings(
            derandomize=True,
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The run did real work of every kind, not only refusals.
    kinds = {"receive", "move", "reserve", "pick", "ship", "adjust", "count"}
    assert set(done) == kinds, (kinds - set(done), done)


@pytest.mark.parametrize("delta", [-1000])
def test_an_adjustment_below_zero_is_refused(ctx: Context, world: World, delta: int) -> None:
    floor = service_floor(ctx, [world.companies["A"]])
    item = floor.items[world.companies["A"]][0]
    with ctx.db.unit(SYSTEM) as s:
        inbound.receive(
            s,
            SYSTEM,
            schemas.ReceiveIn(
                warehouse_id=floor.warehouse_id,
                owner_company_id=world.companies["A"],
                lines=[schemas.ReceiveLineIn(item_id=item, qty_good=5)],
            ),
        )
        q = s.scalars(select(Quant).where(Quant.item_id == item)).one()
    with pytest.raises(SandanError) as refused, ctx.db.unit(SYSTEM) as s:
        inventory.adjust(
            s,
            SYSTEM,
            schemas.AdjustIn(
                item_id=item,
                lot_id=q.lot_id,
                owner_company_id=q.owner_company_id,
                bin_id=q.bin_id,
                delta=delta,
                reason="x",
            ),
        )
    assert refused.value.status_code == 422
