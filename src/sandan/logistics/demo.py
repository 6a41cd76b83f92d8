"""Demo data of the shared warehouse, built through the logistics services (never raw rows)
so the demo obeys the same rules as the API: a floor with general, hazardous, cold and bulk
zones, two docks, tariffs, items of the demo tenants, one ASN received and put away, one ASN
with a truck booked for today still to receive, and orders (one released to the floor as a
wave, one open) so the clerk's receiving and picking pages have work on the first run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.identity.models import User
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Warehouse
from sandan.logistics.schemas import (
    AppointmentIn,
    AsnIn,
    AsnLineIn,
    BinGridIn,
    BinIn,
    DockIn,
    ItemIn,
    ReceiveIn,
    ReceiveLineIn,
    StockLeg,
    WarehouseIn,
    ZoneIn,
)
from sandan.logistics.schemas_out import OrderIn, OrderLineIn, TariffIn, WaveIn
from sandan.logistics.service import billing, docks, inbound, items, layout, outbound, picking
from sandan.logistics.service import putaway as putaways
from sandan.logistics.timezone import at_local, local_day

CODE = "GM-SHARED"
# (sku, Korean name, category, units per pallet)
CATALOGUE: list[list[tuple[str, str, str, int]]] = [
    [
        ("BRK-100", "브레이크 패드 (Brake pad)", "general", 200),
        ("CUT-OIL", "절삭유 20L (Cutting oil)", "hazardous", 40),
        ("STL-COIL", "강판 코일 (Steel coil)", "bulk", 2),
    ],
    [
        ("PCB-A1", "제어 기판 (Control PCB)", "general", 500),
        ("ADH-5", "접착제 (Adhesive, cold)", "cold", 120),
    ],
    [("BOX-L", "골판지 상자 (Carton)", "general", 300)],
]


def tenant_ids(session: Session, limit: int = 3) -> list[int]:
    """The demo companies with admins first (they can sign in), then the next companies."""
    from sandan.registry.models import Company

    admins = session.scalars(
        select(User.company_id)
        .where(User.role == "company_admin", User.company_id.is_not(None))
        .order_by(User.id)
    ).all()
    ids = list(dict.fromkeys(int(c) for c in admins if c is not None))
    for company in session.scalars(select(Company.id).order_by(Company.id).limit(limit + 2)):
        if len(ids) >= limit:
            break
        if company not in ids:
            ids.append(int(company))
    return ids[:limit]


def seed_warehouse_demo(session: Session, now: datetime | None = None) -> int | None:
    """Build the shared warehouse once; returns its id (None when there are no tenants)."""
    if session.scalar(select(Warehouse.id).where(Warehouse.code == CODE)):
        return None
    owners = tenant_ids(session)
    if not owners:
        return None
    op = Principal.system("demo-seed")
    now = now or utcnow()
    today = local_day(now)
    w = layout.create_warehouse(
        session,
        op,
        WarehouseIn(
            code=CODE, name="구미 공동물류센터", address="경북 구미시 산동읍", lat=36.12, lon=128.39
        ),
    ).id
    dock_zone = layout.create_zone(session, op, w, ZoneIn(code="DK", name="도크", sequence=0))
    for kind in ("receiving", "outbound"):
        layout.create_bin(session, op, BinIn(zone_id=dock_zone.id, code=kind.upper(), kind=kind))
    grids: list[tuple[int, int, int, int, str, int]] = []
    if len(owners) > 2:  # the third tenant rents its own zone (its goods go nowhere else)
        zone = ZoneIn(code="T", name="전용", sequence=1, owner_company_id=owners[2])
        grids.append((layout.create_zone(session, op, w, zone).id, 1, 2, 2, "general", 4))
    grids += [
        (layout.create_zone(session, op, w, ZoneIn(code="S", name="일반", sequence=2)).id,
         2, 4, 3, "general", 2),
        (layout.create_zone(
            session, op, w, ZoneIn(code="H", name="위험물", category="hazardous", sequence=3)
        ).id, 1, 2, 2, "hazardous", 2),
        (layout.create_zone(
            session, op, w, ZoneIn(code="C", name="냉장", category="cold", sequence=4)
        ).id, 1, 2, 2, "cold", 2),
        (layout.create_zone(
            session, op, w, ZoneIn(code="K", name="벌크", category="bulk", sequence=5)
        ).id, 1, 2, 1, "bulk", 6),
    ]  # fmt: skip
    for zone_id, aisles, racks, levels, category, pallets in grids:
        layout.create_bin_grid(
            session,
            op,
            BinGridIn(
                zone_id=zone_id,
                aisles=aisles,
                racks=racks,
                levels=levels,
                category=category,
                max_pallets=pallets,
            ),
        )
    inbound_dock = layout.create_dock(
        session, op, w, DockIn(code="D1", kind="inbound", opens="07:00", closes="20:00")
    )
    layout.create_dock(
        session, op, w, DockIn(code="D2", kind="both", max_trucks=2, opens="08:00", closes="18:00")
    )
    billing.set_tariff(session, op, TariffIn())
    billing.set_tariff(session, op, TariffIn(owner_company_id=owners[0], pallet_day_krw=900))
    made: dict[int, list[int]] = {}
    for owner, catalogue in zip(owners, CATALOGUE, strict=False):
        made[owner] = [
            items.create_item(
                session,
                op,
                ItemIn(
                    owner_company_id=owner,
                    sku=sku,
                    name=name,
                    category=category,
                    units_per_pallet=per_pallet,
                    length_mm=400,
                    width_mm=300,
                    height_mm=250,
                    weight_kg=4.0,
                ),
            ).id
            for sku, name, category, per_pallet in catalogue
        ]
    first = owners[0]
    # Yesterday's delivery of the first tenant: received and put away.
    done = inbound.create_asn(
        session,
        op,
        AsnIn(
            owner_company_id=first,
            warehouse_id=w,
            ref="ASN-DEMO-1",
            supplier="대구 부품상사",
            expected_at=now - timedelta(days=1),
            lines=[
                AsnLineIn(item_id=i, qty_expected=q)
                for i, q in zip(made[first], (400, 40, 2), strict=False)
            ],
        ),
    )
    asn = inbound.get_asn(session, op, done.id)
    inbound.receive(
        session,
        op,
        ReceiveIn(
            warehouse_id=w,
            asn_id=done.id,
            lines=[ReceiveLineIn(asn_line_id=x.id, qty_good=x.qty_expected) for x in asn.lines],
        ),
    )
    for s in putaways.suggest(session, op, w):
        if s.to_bin_id is not None:
            putaways.move(session, op, StockLeg(**s.model_dump(exclude={"to_bin_code", "rule"})))
    # Today's truck of every tenant, to receive on the clerk's page.
    for n, owner in enumerate(owners, start=2):
        asn_today = inbound.create_asn(
            session,
            op,
            AsnIn(
                owner_company_id=owner,
                warehouse_id=w,
                ref=f"ASN-DEMO-{n}",
                supplier="경북 포장자재",
                expected_at=at_local(today, f"{8 + n:02d}:00"),
                lines=[AsnLineIn(item_id=i, qty_expected=60) for i in made[owner]],
            ),
        )
        docks.book(
            session,
            op,
            AppointmentIn(
                dock_id=inbound_dock.id,
                owner_company_id=owner,
                asn_id=asn_today.id,
                starts_at=at_local(today, f"{8 + n:02d}:00"),
                ends_at=at_local(today, f"{8 + n:02d}:30"),
                truck_plate=f"경북{80 + n}바{1200 + n}",
            ),
        )
    # Two orders of the first tenant: one released to the floor (a pick list), one open.
    orders = []
    for n, qty in ((1, 120), (2, 30)):
        order = outbound.create_order(
            session,
            op,
            OrderIn(
                owner_company_id=first,
                warehouse_id=w,
                ref=f"SO-DEMO-{n}",
                ship_to="구미 2공단 조립공장",
                address="경북 구미시 공단동",
                lat=36.10,
                lon=128.40,
                ship_date=today,
                window_start=at_local(today, "13:00"),
                window_end=at_local(today, "17:00"),
                lines=[OrderLineIn(item_id=made[first][0], qty=qty)],
            ),
        )
        orders.append(order.id)
    outbound.reserve(session, op, orders[0])
    picking.create_wave(session, op, WaveIn(warehouse_id=w, order_ids=[orders[0]]))
    return w
