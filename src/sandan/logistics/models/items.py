"""A tenant's items and the lots (or serials) its stock is tracked by."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


def volume_m3(length_mm: float, width_mm: float, height_mm: float) -> float:
    """An item's volume from its dimensions: one rule for the entity and the Core reads."""
    return length_mm * width_mm * height_mm / 1e9


class Item(Audited, Base):
    """A stock-keeping unit of one owner company; dimensions drive capacity and billing."""

    __tablename__ = "wms_items"
    __audit_company__: ClassVar[str] = "owner_company_id"
    __table_args__ = (
        UniqueConstraint("owner_company_id", "sku"),
        CheckConstraint("units_per_pallet >= 1", "per_pallet"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(40))
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(8), default="EA")
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    units_per_pallet: Mapped[int] = mapped_column(Integer, default=1)
    tracking: Mapped[str] = mapped_column(String(6), default="none")  # none | lot | serial
    category: Mapped[str] = mapped_column(String(10), default="general")

    @property
    def volume_m3(self) -> float:
        return volume_m3(self.length_mm, self.width_mm, self.height_mm)


class Lot(Base):
    """A lot, a serial number, or (untracked items) the day's receipt, which FIFO orders by."""

    __tablename__ = "wms_lots"
    __table_args__ = (UniqueConstraint("item_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("wms_items.id", ondelete="CASCADE"))
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    expiry: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
