"""The warehouse floor: warehouses, zones, bins (one at a time or a grid) and docks.

The layout is the operator's to change and every signed-in user's to read: a tenant needs
the docks to book and the bins to read its stock.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from sandan.core.errors import Conflict, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.models import Bin, Dock, Item, Warehouse, WarehouseZone
from sandan.logistics.schemas import BinGridIn, BinIn, DockIn, WarehouseIn, ZoneIn
from sandan.logistics.service.access import ensure_operator, table


def create_warehouse(session: Session, principal: Principal, body: WarehouseIn) -> Warehouse:
    """Open a shared warehouse (its coordinates are the delivery depot)."""
    ensure_operator(principal, "open a warehouse")
    if session.scalar(select(Warehouse.id).where(Warehouse.code == body.code)):
        raise Conflict(f"warehouse {body.code} exists")
    row = Warehouse(**body.model_dump())
    session.add(row)
    session.flush()
    return row


def warehouses(session: Session) -> Sequence[Warehouse]:
    return session.scalars(select(Warehouse).order_by(Warehouse.code)).all()


def warehouse(session: Session, warehouse_id: int) -> Warehouse:
    return found(session.get(Warehouse, warehouse_id), "warehouse")


def create_zone(
    session: Session, principal: Principal, warehouse_id: int, body: ZoneIn
) -> WarehouseZone:
    """A zone of one category, optionally dedicated to one tenant."""
    ensure_operator(principal, "change the layout")
    warehouse(session, warehouse_id)
    row = WarehouseZone(warehouse_id=warehouse_id, **body.model_dump())
    session.add(row)
    session.flush()
    return row


def zones(session: Session, warehouse_id: int) -> Sequence[WarehouseZone]:
    stmt = select(WarehouseZone).where(WarehouseZone.warehouse_id == warehouse_id)
    return session.scalars(stmt.order_by(WarehouseZone.sequence, WarehouseZone.code)).all()


def _zone(session: Session, zone_id: int) -> WarehouseZone:
    zone = session.get(WarehouseZone, zone_id)
    if zone is None:
        raise ValidationFailed.one("zone_id", "no such zone")
    return zone


def create_bin(session: Session, principal: Principal, body: BinIn) -> Bin:
    """One bin; a fixed item must exist and the bin's code be new in its warehouse."""
    ensure_operator(principal, "change the layout")
    zone = _zone(session, body.zone_id)
    if body.fixed_item_id is not None and session.get(Item, body.fixed_item_id) is None:
        raise ValidationFailed.one("fixed_item_id", "no such item")
    taken = select(Bin.id).where(Bin.warehouse_id == zone.warehouse_id, Bin.code == body.code)
    if session.scalar(taken):
        raise Conflict(f"bin {body.code} exists")
    row = Bin(warehouse_id=zone.warehouse_id, **body.model_dump())
    session.add(row)
    session.flush()
    return row


def create_bin_grid(session: Session, principal: Principal, body: BinGridIn) -> list[Bin]:
    """Aisles × racks × levels of storage bins, skipping codes that exist."""
    ensure_operator(principal, "change the layout")
    zone = _zone(session, body.zone_id)
    have = set(session.scalars(select(Bin.code).where(Bin.warehouse_id == zone.warehouse_id)))
    made = []
    for aisle in range(1, body.aisles + 1):
        for rack in range(1, body.racks + 1):
            for level in range(1, body.levels + 1):
                code = f"{zone.code}-{aisle:02d}-{rack:02d}-{level}"
                if code in have:
                    continue
                made.append(
                    Bin(
                        warehouse_id=zone.warehouse_id,
                        zone_id=zone.id,
                        code=code,
                        kind="storage",
                        category=body.category,
                        aisle=aisle,
                        rack=rack,
                        level=level,
                        max_volume_m3=body.max_volume_m3,
                        max_weight_kg=body.max_weight_kg,
                        max_pallets=body.max_pallets,
                    )
                )
    session.add_all(made)
    session.flush()
    return made


def bins(session: Session, warehouse_id: int, kind: str | None = None) -> Sequence[Bin]:
    stmt = select(Bin).where(Bin.warehouse_id == warehouse_id)
    if kind is not None:
        stmt = stmt.where(Bin.kind == kind)
    return session.scalars(stmt.order_by(Bin.code)).all()


def staging_bin(session: Session, warehouse_id: int, kind: str) -> Bin:
    """The warehouse's receiving or outbound staging bin (the first of that kind)."""
    stmt = select(Bin).where(Bin.warehouse_id == warehouse_id, Bin.kind == kind)
    row = session.scalars(stmt.order_by(Bin.id)).first()
    if row is None:
        raise ValidationFailed.one("warehouse_id", f"the warehouse has no {kind} bin")
    return row


_BINS = table(Bin)
_STAGING = (
    select(_BINS.c.id)
    .where(_BINS.c.warehouse_id == bindparam("warehouse_id"), _BINS.c.kind == bindparam("kind"))
    .order_by(_BINS.c.id)
    .limit(1)
)


def staging_bin_id(session: Session, warehouse_id: int, kind: str) -> int:
    """`staging_bin`'s id, read without loading the bin."""
    row = session.execute(_STAGING, {"warehouse_id": warehouse_id, "kind": kind}).first()
    if row is None:
        raise ValidationFailed.one("warehouse_id", f"the warehouse has no {kind} bin")
    return int(row[0])


def create_dock(session: Session, principal: Principal, warehouse_id: int, body: DockIn) -> Dock:
    """A dock with its opening hours, slot length and truck capacity."""
    ensure_operator(principal, "change the layout")
    warehouse(session, warehouse_id)
    if body.closes <= body.opens:
        raise ValidationFailed.one("closes", "a dock closes after it opens")
    taken = select(Dock.id).where(Dock.warehouse_id == warehouse_id, Dock.code == body.code)
    if session.scalar(taken):
        raise Conflict(f"dock {body.code} exists")
    row = Dock(warehouse_id=warehouse_id, **body.model_dump())
    session.add(row)
    session.flush()
    return row


def docks(session: Session, warehouse_id: int) -> Sequence[Dock]:
    stmt = select(Dock).where(Dock.warehouse_id == warehouse_id).order_by(Dock.code)
    return session.scalars(stmt).all()
