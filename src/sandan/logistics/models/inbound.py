"""Inbound: advance shipping notices, receipts, dock appointments and the yard."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.clock import utcnow
from sandan.core.db import Base


class Asn(Base):
    """A tenant's advance shipping notice: what a supplier's truck will bring, and when."""

    __tablename__ = "wms_asns"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(40))
    supplier: Mapped[str] = mapped_column(String(120), default="")
    expected_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | received
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AsnLine(Base):
    """One expected line; receiving fills in received and damaged, hence over and short."""

    __tablename__ = "wms_asn_lines"
    __table_args__ = (
        CheckConstraint("qty_expected >= 0 AND qty_received >= 0 AND qty_damaged >= 0", "qty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asn_id: Mapped[int] = mapped_column(ForeignKey("wms_asns.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    lot_code: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[date | None] = mapped_column(Date)
    qty_expected: Mapped[int] = mapped_column(Integer)
    qty_received: Mapped[int] = mapped_column(Integer, default=0)
    qty_damaged: Mapped[int] = mapped_column(Integer, default=0)


class ReceiptLine(Base):
    """Goods counted in at the dock, against an ASN line or blind (asn_line_id None)."""

    __tablename__ = "wms_receipt_lines"
    __table_args__ = (
        CheckConstraint("qty_good >= 0 AND qty_damaged >= 0", "qty"),
        Index("ix_wms_receipt_lines_owner_at", "owner_company_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    asn_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_asn_lines.id", ondelete="SET NULL")
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_appointments.id", ondelete="SET NULL")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("wms_lots.id", ondelete="CASCADE"))
    qty_good: Mapped[int] = mapped_column(Integer)
    qty_damaged: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(60), default="")


class Appointment(Base):
    """A truck's booked time at a dock, for an ASN (inbound) or a pickup (outbound)."""

    __tablename__ = "wms_appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", "span"),
        Index("ix_wms_appointments_dock_start", "dock_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    dock_id: Mapped[int] = mapped_column(ForeignKey("wms_docks.id", ondelete="CASCADE"))
    asn_id: Mapped[int | None] = mapped_column(ForeignKey("wms_asns.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(8), default="inbound")  # | outbound
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    truck_plate: Mapped[str] = mapped_column(String(16))
    truck_class: Mapped[str] = mapped_column(String(6), default="5t")
    status: Mapped[str] = mapped_column(String(10), default="booked")  # | cancelled | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class YardVisit(Base):
    """A truck in the yard, from the gate check-in to check-out, with its queue position."""

    __tablename__ = "wms_yard_visits"
    __table_args__ = (Index("ix_wms_yard_visits_plate", "truck_plate", "checked_out_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    truck_plate: Mapped[str] = mapped_column(String(16))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_appointments.id", ondelete="SET NULL")
    )
    owner_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_out_at: Mapped[datetime | None]
