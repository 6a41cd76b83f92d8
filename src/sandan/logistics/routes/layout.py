"""Routes of the warehouse layout: warehouses, zones, bins, docks and their slots."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from sandan.core.http import DbSession
from sandan.core.types import IdPath
from sandan.logistics.routes.deps import Operator, Reader
from sandan.logistics.schemas import (
    BinGridIn,
    BinIn,
    BinOut,
    DockIn,
    DockOut,
    SlotOut,
    WarehouseIn,
    WarehouseOut,
    ZoneIn,
    ZoneOut,
)
from sandan.logistics.service import docks as dock_service
from sandan.logistics.service import layout

router = APIRouter()


@router.post("/warehouses", status_code=201)
def create_warehouse(body: WarehouseIn, session: DbSession, principal: Operator) -> WarehouseOut:
    """Open a shared warehouse."""
    return WarehouseOut.model_validate(layout.create_warehouse(session, principal, body))


@router.get("/warehouses")
def list_warehouses(session: DbSession, principal: Reader) -> list[WarehouseOut]:
    """The shared warehouses."""
    return [WarehouseOut.model_validate(w) for w in layout.warehouses(session)]


@router.post("/warehouses/{warehouse_id}/zones", status_code=201)
def create_zone(
    warehouse_id: IdPath, body: ZoneIn, session: DbSession, principal: Operator
) -> ZoneOut:
    """Add a zone (category, optional tenant, walking sequence)."""
    return ZoneOut.model_validate(layout.create_zone(session, principal, warehouse_id, body))


@router.get("/warehouses/{warehouse_id}/zones")
def list_zones(warehouse_id: IdPath, session: DbSession, principal: Reader) -> list[ZoneOut]:
    """The warehouse's zones in walking order."""
    return [ZoneOut.model_validate(z) for z in layout.zones(session, warehouse_id)]


@router.post("/bins", status_code=201)
def create_bin(body: BinIn, session: DbSession, principal: Operator) -> BinOut:
    """Add one bin (storage, receiving or outbound) with its capacity."""
    return BinOut.model_validate(layout.create_bin(session, principal, body))


@router.post("/bins/grid", status_code=201)
def create_bin_grid(body: BinGridIn, session: DbSession, principal: Operator) -> list[BinOut]:
    """Add aisles × racks × levels of storage bins to a zone."""
    return [BinOut.model_validate(b) for b in layout.create_bin_grid(session, principal, body)]


@router.get("/warehouses/{warehouse_id}/bins")
def list_bins(
    warehouse_id: IdPath, session: DbSession, principal: Reader, kind: str | None = None
) -> list[BinOut]:
    """The warehouse's bins."""
    return [BinOut.model_validate(b) for b in layout.bins(session, warehouse_id, kind)]


@router.post("/warehouses/{warehouse_id}/docks", status_code=201)
def create_dock(
    warehouse_id: IdPath, body: DockIn, session: DbSession, principal: Operator
) -> DockOut:
    """Add a dock with hours, slot length, truck classes and capacity."""
    return DockOut.model_validate(layout.create_dock(session, principal, warehouse_id, body))


@router.get("/warehouses/{warehouse_id}/docks")
def list_docks(warehouse_id: IdPath, session: DbSession, principal: Reader) -> list[DockOut]:
    """The warehouse's docks."""
    return [DockOut.model_validate(d) for d in layout.docks(session, warehouse_id)]


@router.get("/docks/{dock_id}/slots")
def dock_slots(dock_id: IdPath, day: date, session: DbSession, principal: Reader) -> list[SlotOut]:
    """A dock's slots of a day (Asia/Seoul) with booked and free places."""
    return dock_service.slots(session, dock_id, day)
