"""Tables of the ISA-18.2 alarm engine: definitions per tag, the evaluator's state, alarms
(one open row per source and condition) and the journal of every state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class AlarmDefinition(Audited, Base):
    """What makes a tag's readings an alarm: limits with deadband, rate of change, delays,
    priority, latching, escalation time, service state and the multi-tag conditions. Owned by
    the tag's company; changed by the control centre (audited like every people's write)."""

    __tablename__ = "safety_alarm_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12), default="process")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    hh: Mapped[float | None] = mapped_column(Float)
    h: Mapped[float | None] = mapped_column(Float)
    l: Mapped[float | None] = mapped_column(Float)  # noqa: E741 - the ISA name of the limit
    ll: Mapped[float | None] = mapped_column(Float)
    roc_per_min: Mapped[float | None] = mapped_column(Float)  # |Δvalue| per minute
    deadband: Mapped[float] = mapped_column(Float, default=0.0)
    on_delay_s: Mapped[float] = mapped_column(Float, default=0.0)
    off_delay_s: Mapped[float] = mapped_column(Float, default=0.0)
    latching: Mapped[bool] = mapped_column(default=False)
    escalate_after_s: Mapped[int | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    in_service: Mapped[bool] = mapped_column(default=True)
    # {"all"|"any": [{"tag_id", "op", "value"}, ...]} over other tags' latest values
    when: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the alarm needs it true too
    suppress_when: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # suppressed by design
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvalState(Base):
    """The evaluator's memory of one definition, so a restart continues where it stopped:
    per condition [hysteresis state, since (µs), alarm active], the last reading evaluated
    (µs) and the last value for the rate of change. Written per batch, so not audited."""

    __tablename__ = "safety_alarm_eval_state"

    definition_id: Mapped[int] = mapped_column(
        ForeignKey(
            "safety_alarm_definitions.id",
            ondelete="CASCADE",
            name="fk_safety_alarm_eval_state_definition_id",
        ),
        primary_key=True,
    )
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_ts_us: Mapped[int | None] = mapped_column(BigInteger)
    last_value: Mapped[float | None] = mapped_column(Float)


class Alarm(Base):
    """One occurrence of an alarm from raise to return to normal. At most one open row
    (closed_at null) per (source, condition), held by a partial unique index on both
    backends. The flags are the ISA-18.2 status; `state` is derived from them (states.py)."""

    __tablename__ = "safety_alarms"
    __table_args__ = (
        Index(
            "uq_safety_alarms_open_source_condition",
            "source",
            "condition",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_safety_alarms_company_raised", "company_id", "raised_at"),
        Index("ix_safety_alarms_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(120))
    condition: Mapped[str] = mapped_column(String(60))
    definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_alarm_definitions.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    priority: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(24))
    in_alarm: Mapped[bool] = mapped_column(default=True)
    acked: Mapped[bool] = mapped_column(default=False)
    held: Mapped[bool] = mapped_column(default=False)  # latched until reset
    latching: Mapped[bool] = mapped_column(default=False)
    shelved: Mapped[bool] = mapped_column(default=False)
    suppressed: Mapped[bool] = mapped_column(default=False)
    out_of_service: Mapped[bool] = mapped_column(default=False)
    shelved_until: Mapped[datetime | None]
    shelve_reason: Mapped[str] = mapped_column(String(300), default="")
    escalate_after_s: Mapped[int | None]
    escalated_at: Mapped[datetime | None]
    value: Mapped[float | None] = mapped_column(Float)
    raised_at: Mapped[datetime]  # the latest annunciation (a re-alarm moves it)
    first_raised_at: Mapped[datetime]
    last_at: Mapped[datetime]
    acked_at: Mapped[datetime | None]
    acked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None]


class AlarmJournal(Base):
    """Append-only history of every alarm transition: what, when, by whom, why."""

    __tablename__ = "safety_alarm_journal"
    __table_args__ = (Index("ix_safety_alarm_journal_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(
        ForeignKey("safety_alarms.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
