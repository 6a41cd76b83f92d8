"""Relational tables of analytics: downtime events and the reasons operators give them, and
the power thresholds that give a machine without a state tag its states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class DowntimeEvent(Audited, Base):
    """A stretch of a machine in idle (2, beyond a minimum), down (3) or changeover (4), found
    in its state tag. The detector writes the times (derived data, recomputed from telemetry,
    through statements that the audit log does not see); people write the reason and the note,
    and those changes are audited like every write of an `Audited` row."""

    __tablename__ = "analytics_downtime_events"
    __table_args__ = (
        UniqueConstraint("machine_id", "started_at"),
        Index("ix_analytics_downtime_company_started", "company_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    state: Mapped[int] = mapped_column(SmallInteger)  # 2 idle, 3 down, 4 changeover
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]  # the end seen so far while `ongoing`
    ongoing: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(40))  # a code of REASONS (schemas.py)
    note: Mapped[str] = mapped_column(String(500), default="")
    reason_by: Mapped[str] = mapped_column(String(120), default="")  # the actor who gave it
    reason_at: Mapped[datetime | None]
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)


class StateRule(Audited, Base):
    """How a machine that has a `power` tag but no `state` tag gets its states: a minute's mean
    power at or above `run_kw` is running (1), at or above `idle_kw` idle (2), below it
    `off_state` (0 planned stop or 3 down). A state tag, when the machine has one, wins."""

    __tablename__ = "analytics_state_rules"
    __table_args__ = (
        CheckConstraint("idle_kw >= 0 AND run_kw > idle_kw", "thresholds"),
        CheckConstraint("off_state IN (0, 3)", "off_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    machine_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), unique=True
    )
    idle_kw: Mapped[float] = mapped_column(Float)
    run_kw: Mapped[float] = mapped_column(Float)
    off_state: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 planned stop, 3 down
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
