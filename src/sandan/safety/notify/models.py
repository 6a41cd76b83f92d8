"""Notification channels and every delivery made or tried through them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class NotificationChannel(Audited, Base):
    """Where the control centre sends word: an email address (a duty roster's mailbox) or a
    webhook (an SMS gateway, a messenger bot), filtered by priority and alarm kind, for new
    alarms, escalations of unacknowledged ones, and incidents."""

    __tablename__ = "safety_notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))  # email, webhook
    target: Mapped[str] = mapped_column(String(500))
    min_priority: Mapped[str] = mapped_column(String(10), default="high")
    kinds: Mapped[str] = mapped_column(String(200), default="")  # alarm kinds; empty: all
    on_raise: Mapped[bool] = mapped_column(default=True)
    on_escalation: Mapped[bool] = mapped_column(default=True)
    on_incident: Mapped[bool] = mapped_column(default=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationDelivery(Base):
    """One message for one channel about one alarm or incident, for one reason; unique, so
    an event delivered twice by the bus notifies once. Retried with backoff until sent or
    given up (`failed`, with the last error kept for the operator)."""

    __tablename__ = "safety_notification_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "subject", "subject_id", "reason"),
        Index("ix_safety_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("safety_notification_channels.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(10))  # alarm, incident
    subject_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))  # raised, escalated, opened
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
