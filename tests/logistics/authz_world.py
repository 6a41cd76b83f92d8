"""Company A's (and B's) warehouse documents in every state a route of the authorization
matrix needs, made through the services as the system: stock in receiving and on a shelf,
an open order, a reserved order in a wave with a reservation to pick, a picked order to pack,
a packed shipment, an ASN, a booked appointment, a truck in the yard and an open count."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics import schemas, schemas_out
from sandan.logistics.models import OrderLine, Reservation
from sandan.logistics.service import docks, inbound, inventory, layout, outbound, picking, putaway
from sandan.logistics.service.items import create_item
from sandan.logistics.timezone import SEOUL

SYSTEM = Principal.system("authz")


def _order(s: Session, w: int, owner: int, item: int, ref: str) -> int:
    now = utcnow()
    body = schemas_out.OrderIn(
        owner_company_id=owner,
        warehouse_id=w,
        ref=ref,
        ship_to="x",
        lat=36.0,
        lon=128.0,
        ship_date=now.date(),
        window_start=now,
        window_end=now + timedelta(hours=3),
        lines=[schemas_out.OrderLineIn(item_id=item, qty=2)],
    )
    return outbound.create_order(s, SYSTEM, body).id


def _reservation(s: Session, order_id: int) -> int:
    return (
        s.scalars(
            select(Reservation.id)
            .join(OrderLine, OrderLine.id == Reservation.order_line_id)
            .where(OrderLine.order_id == order_id, Reservation.qty > 0)
        ).first()
        or 0
    )


def seed_wms(ctx: Context, world: World) -> dict[str, Any]:
    """The ids the matrix fills in (route parameters by their names, bodies by wms_*)."""
    ids: dict[str, Any] = {}
    a, b = world.companies["A"], world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        w = layout.create_warehouse(
            s, SYSTEM, schemas.WarehouseIn(code="GM1", name="w", lat=36.1, lon=128.4)
        ).id
        zone = layout.create_zone(s, SYSTEM, w, schemas.ZoneIn(code="S", sequence=1)).id
        receiving = layout.create_bin(
            s, SYSTEM, schemas.BinIn(zone_id=zone, code="R", kind="receiving")
        ).id
        layout.create_bin(s, SYSTEM, schemas.BinIn(zone_id=zone, code="O", kind="outbound"))
        shelves = [
            b_.id
            for b_ in layout.create_bin_grid(
                s, SYSTEM, schemas.BinGridIn(zone_id=zone, aisles=1, racks=4, levels=1)
            )
        ]
        dock = layout.create_dock(
            s, SYSTEM, w, schemas.DockIn(code="D1", opens="08:00", closes="18:00")
        ).id
        items = {}
        for key, owner in (("A", a), ("B", b)):
            items[key] = create_item(
                s, SYSTEM, schemas.ItemIn(owner_company_id=owner, sku=f"SKU-{key}", name=key)
            ).id
            got = inbound.receive(
                s,
                SYSTEM,
                schemas.ReceiveIn(
                    warehouse_id=w,
                    owner_company_id=owner,
                    lines=[schemas.ReceiveLineIn(item_id=items[key], qty_good=40)],
                ),
            )
            lot = got.lines[0].lot_id
            shelf = shelves[0] if key == "A" else shelves[3]
            putaway.move(
                s,
                SYSTEM,
                schemas.StockLeg(
                    item_id=items[key],
                    lot_id=lot,
                    owner_company_id=owner,
                    from_bin_id=receiving,
                    to_bin_id=shelf,
                    qty=35,
                ),
            )
            if key == "A":
                ids.update(wms_lot_id=lot, wms_shelf_id=shelf, wms_free_shelf_id=shelves[1])
        tomorrow = (datetime.now(SEOUL) + timedelta(days=1)).date()
        start = datetime.combine(tomorrow, time(14, 0), tzinfo=SEOUL)
        asn = inbound.create_asn(
            s,
            SYSTEM,
            schemas.AsnIn(
                owner_company_id=a,
                warehouse_id=w,
                ref="PO-1",
                expected_at=start,
                lines=[schemas.AsnLineIn(item_id=items["A"], qty_expected=3)],
            ),
        )
        appt = docks.book(
            s,
            SYSTEM,
            schemas.AppointmentIn(
                dock_id=dock,
                owner_company_id=a,
                asn_id=asn.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                truck_plate="12가3456",
            ),
        )
        docks.check_in(s, SYSTEM, w, "34나5678")
        main_order, in_wave, to_ship = (
            _order(s, w, a, items["A"], r) for r in ("MAIN", "WAVE", "SHIP")
        )
        for o in (main_order, in_wave, to_ship):
            outbound.reserve(s, SYSTEM, o)
        wave = picking.create_wave(
            s, SYSTEM, schemas_out.WaveIn(warehouse_id=w, order_ids=[in_wave, to_ship])
        )
        picking.pick(s, SYSTEM, schemas_out.PickIn(reservation_id=_reservation(s, to_ship), qty=2))
        shipment = picking.pack(s, SYSTEM, to_ship, schemas_out.PackIn())
        b_order = _order(s, w, b, items["B"], "B-1")
        outbound.reserve(s, SYSTEM, b_order)
        count = inventory.create_count(
            s, SYSTEM, schemas_out.CountIn(warehouse_id=w, bin_ids=[shelves[2]])
        )
        ids.update(
            warehouse_id=w,
            wms_zone_id=zone,
            wms_receiving_id=receiving,
            dock_id=dock,
            item_id=items["A"],
            asn_id=asn.id,
            appointment_id=appt.id,
            wms_slot_start=(start + timedelta(hours=1)).isoformat(),
            wms_slot_end=(start + timedelta(hours=1, minutes=30)).isoformat(),
            wms_day=tomorrow.isoformat(),
            order_id=main_order,
            wave_id=wave.id,
            wms_reservation_id=_reservation(s, in_wave),
            shipment_id=shipment.id,
            count_id=count.id,
        )
    return ids
