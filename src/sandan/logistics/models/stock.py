"""Stock: the append-only movement ledger, the quants derived from it, reservations and
cycle counts.

The ledger is the truth. A quant (item, lot, bin, owner) caches `on_hand` (the ledger's sum)
and `reserved` (the open reservations' sum) so that a reservation can lock one row; the
database refuses a negative quant or more reserved than on hand, and `reconcile()` proves the
cache equals the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.clock import utcnow
from sandan.core.db import Base

MOVE_KINDS = ("receive", "putaway", "move", "pick", "ship", "adjust", "count")


class Quant(Base):
    """What one owner has of one lot in one bin; never negative, never over-reserved."""

    __tablename__ = "wms_quants"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_id", "bin_id", "owner_company_id"),
        CheckConstraint("on_hand >= 0", "on_hand"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", "reserved"),
        Index("ix_wms_quants_owner_item", "owner_company_id", "item_id"),
        Index("ix_wms_quants_bin", "bin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("wms_lots.id", ondelete="CASCADE"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("wms_bins.id", ondelete="CASCADE"))
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class Movement(Base):
    """One immutable line of the stock ledger: qty units of a lot went from a bin to a bin
    (None: from or to outside the warehouse). Never updated, never deleted."""

    __tablename__ = "wms_movements"
    __table_args__ = (
        CheckConstraint("qty > 0", "qty"),
        CheckConstraint("from_bin_id IS NOT NULL OR to_bin_id IS NOT NULL", "ends"),
        Index("ix_wms_movements_owner_at", "owner_company_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("wms_lots.id", ondelete="CASCADE"))
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    from_bin_id: Mapped[int | None] = mapped_column(ForeignKey("wms_bins.id"))
    to_bin_id: Mapped[int | None] = mapped_column(ForeignKey("wms_bins.id"))
    qty: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(60), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(60), default="")


class Reservation(Base):
    """Units of one quant promised to one order line, until picked or released."""

    __tablename__ = "wms_reservations"
    __table_args__ = (
        UniqueConstraint("order_line_id", "quant_id"),
        CheckConstraint("qty >= 0 AND picked >= 0", "qty"),
        Index("ix_wms_reservations_quant", "quant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("wms_order_lines.id", ondelete="CASCADE"))
    quant_id: Mapped[int] = mapped_column(ForeignKey("wms_quants.id", ondelete="CASCADE"))
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    qty: Mapped[int] = mapped_column(Integer)  # open: reserved and not yet picked
    picked: Mapped[int] = mapped_column(Integer, default=0)  # taken from this quant so far


class CountTask(Base):
    """A cycle count of some bins; differences post as `count` movements when submitted."""

    __tablename__ = "wms_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    bin_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    by: Mapped[str] = mapped_column(String(60), default="")
