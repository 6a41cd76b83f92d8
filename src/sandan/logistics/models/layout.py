"""The warehouse floor: warehouses, zones, bins and docks.

Aisle, rack and level are coordinates of a bin rather than tables of their own: nothing but
bins hangs off them, and the walking order of a pick list sorts on exactly those numbers.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.db import Base

CATEGORIES = ("general", "hazardous", "cold", "bulk")
BIN_KINDS = ("storage", "receiving", "outbound")


class Warehouse(Audited, Base):
    """One shared warehouse; its position is the depot of joint delivery."""

    __tablename__ = "wms_warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class WarehouseZone(Audited, Base):
    """A zone of one storage category, optionally dedicated to one tenant."""

    __tablename__ = "wms_zones"
    __audit_company__: ClassVar[str] = "owner_company_id"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[str] = mapped_column(String(10), default="general")
    # A tenant's own zone: its goods go here first, nobody else's ever do.
    owner_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # walking order from the docks


class Bin(Audited, Base):
    """A storage place (or the receiving / outbound staging area) with its capacity."""

    __tablename__ = "wms_bins"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code"),
        Index("ix_wms_bins_walk", "warehouse_id", "kind", "zone_id", "aisle", "rack", "level"),
        CheckConstraint("max_volume_m3 >= 0 AND max_weight_kg >= 0 AND max_pallets >= 0", "cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("wms_zones.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(10), default="storage")
    category: Mapped[str] = mapped_column(String(10), default="general")
    aisle: Mapped[int] = mapped_column(Integer, default=0)
    rack: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    max_volume_m3: Mapped[float] = mapped_column(Float, default=0.0)  # 0: no limit
    max_weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    max_pallets: Mapped[int] = mapped_column(Integer, default=0)
    fixed_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_items.id", ondelete="SET NULL")
    )


class Dock(Audited, Base):
    """A loading dock with bookable time slots and room for a number of trucks at once."""

    __tablename__ = "wms_docks"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10), default="both")  # inbound | outbound | both
    max_trucks: Mapped[int] = mapped_column(Integer, default=1)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    opens: Mapped[str] = mapped_column(String(5), default="08:00")  # local time (Asia/Seoul)
    closes: Mapped[str] = mapped_column(String(5), default="18:00")
    truck_classes: Mapped[list[str]] = mapped_column(default=lambda: ["1t", "2.5t", "5t", "11t"])
