"""The warehouse's price list, one default row and optional per-tenant rows."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.db import Base


class Tariff(Audited, Base):
    """KRW rates: storage per pallet-day or per m³-day, handling per inbound / outbound line."""

    __tablename__ = "wms_tariffs"
    __audit_company__: ClassVar[str] = "owner_company_id"
    __table_args__ = (
        CheckConstraint(
            "pallet_day_krw >= 0 AND m3_day_krw >= 0 AND inbound_line_krw >= 0 "
            "AND outbound_line_krw >= 0",
            "rates",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the default every tenant without its own row pays.
    owner_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), unique=True
    )
    basis: Mapped[str] = mapped_column(String(6), default="pallet")  # pallet | m3
    pallet_day_krw: Mapped[int] = mapped_column(BigInteger, default=1000)
    m3_day_krw: Mapped[int] = mapped_column(BigInteger, default=700)
    inbound_line_krw: Mapped[int] = mapped_column(BigInteger, default=3000)
    outbound_line_krw: Mapped[int] = mapped_column(BigInteger, default=4000)
