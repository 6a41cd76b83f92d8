"""Relational tables of telemetry: the dead-letter store of rejected readings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.clock import utcnow
from sandan.core.db import Base


class DeadLetter(Base):
    """Rejected readings of one ingest call, with the reason for each, kept for inspection
    and replay. Not audited: it is a log of refusals, not a change of company data."""

    __tablename__ = "telemetry_dead_letters"
    __table_args__ = (Index("ix_dead_letters_company_received", "company_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # http | mqtt | sparkplug | opcua
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    count: Mapped[int]
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)  # reason -> count
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # index, field, reason, reading
    replayed_at: Mapped[datetime | None]
