"""Outbound: orders and their lines, waves, and the shipments joint delivery consolidates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.clock import utcnow
from sandan.core.db import Base

ORDER_STATES = ("open", "reserved", "picking", "packed", "shipped", "cancelled")


class Wave(Base):
    """Orders released to the floor together; one pick list walks them all."""

    __tablename__ = "wms_waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="released")  # | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    """A tenant's outbound order to one destination within a delivery time window."""

    __tablename__ = "wms_orders"
    __table_args__ = (Index("ix_wms_orders_owner_status", "owner_company_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(40))
    ship_to: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ship_date: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wms_waves.id", ondelete="SET NULL"))
    backorder_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_orders.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(Base):
    """Demand for one item; reserved, picked and shipped count up towards qty."""

    __tablename__ = "wms_order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", "qty"),
        CheckConstraint(
            "qty_picked >= 0 AND qty_shipped >= 0 AND qty_shipped <= qty_picked "
            "AND qty_picked <= qty",
            "progress",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("wms_orders.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    qty: Mapped[int] = mapped_column(Integer)
    qty_picked: Mapped[int] = mapped_column(Integer, default=0)
    qty_shipped: Mapped[int] = mapped_column(Integer, default=0)


class Shipment(Base):
    """A packed order leaving the warehouse: where, when and how heavy, for joint delivery."""

    __tablename__ = "wms_shipments"
    __table_args__ = (Index("ix_wms_shipments_date_status", "ship_date", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("wms_orders.id", ondelete="CASCADE"))
    ship_to: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ship_date: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    volume_m3: Mapped[float] = mapped_column(Float, default=0.0)
    packages: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="ready")  # | shipped | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shipped_at: Mapped[datetime | None]
