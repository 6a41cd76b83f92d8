"""Who is told what: deliveries are planned inside the transaction that sees the alarm or
incident (idempotent on channel, subject and reason), then sent by the notifier with retries.
Escalation: an alarm still unacknowledged past its definition's time is sent to the
escalation channels once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.pagination import PageParams, paginate
from sandan.core.tenancy import found
from sandan.safety.alarms import service as alarms
from sandan.safety.notify.models import NotificationChannel, NotificationDelivery

PRIORITIES = ("low", "medium", "high", "critical")
MAX_ATTEMPTS = 5
BACKOFF = (10, 30, 120, 600)  # seconds before the 2nd, 3rd, ... attempt


def _rank(priority: str | None) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else 0


def _wants(channel: NotificationChannel, priority: str | None, kind: str | None) -> bool:
    kinds = {k for k in channel.kinds.split(",") if k}
    return (
        channel.enabled
        and _rank(priority) >= _rank(channel.min_priority)
        and (not kinds or (kind or "") in kinds)
    )


def validate_channel(kind: str, target: str) -> None:
    """An email channel needs an address, a webhook an http(s) URL."""
    if kind == "email" and ("@" not in target or " " in target):
        raise ValidationFailed.one("target", "an email channel needs an email address")
    if kind == "webhook" and not target.startswith(("http://", "https://")):
        raise ValidationFailed.one("target", "a webhook channel needs an http(s) URL")


def _plan(
    session: Session,
    channels: Iterable[NotificationChannel],
    *,
    subject: str,
    subject_id: int,
    reason: str,
    title: str,
    body: str,
) -> int:
    """Add a pending delivery per channel unless that exact one exists; returns how many."""
    planned = 0
    for channel in channels:
        exists = session.scalar(
            select(NotificationDelivery.id).where(
                NotificationDelivery.channel_id == channel.id,
                NotificationDelivery.subject == subject,
                NotificationDelivery.subject_id == subject_id,
                NotificationDelivery.reason == reason,
            )
        )
        if exists is None:
            session.add(
                NotificationDelivery(
                    channel_id=channel.id,
                    subject=subject,
                    subject_id=subject_id,
                    reason=reason,
                    title=title[:300],
                    body=body[:2000],
                )
            )
            planned += 1
    session.flush()
    return planned


def _alarm_text(payload: dict[str, Any], reason: str) -> tuple[str, str]:
    word = {"raised": "ALARM", "escalated": "ESCALATED — unacknowledged"}[reason]
    title = f"[{str(payload.get('priority', '')).upper()}] {word}: {payload.get('message', '')}"
    lines = [
        f"{key}: {payload.get(key)}"
        for key in ("id", "kind", "source", "condition", "state", "at", "lat", "lon")
        if payload.get(key) is not None
    ]
    return title, "\n".join(lines)


def on_alarm_raised(session: Session, payload: dict[str, Any]) -> int:
    """Plan the 'raised' deliveries of a new alarm (a bus handler calls this)."""
    channels = session.scalars(select(NotificationChannel).where(NotificationChannel.on_raise))
    wanted = [c for c in channels if _wants(c, payload.get("priority"), payload.get("kind"))]
    title, body = _alarm_text(payload, "raised")
    return _plan(
        session,
        wanted,
        subject="alarm",
        subject_id=int(payload["id"]),
        reason="raised",
        title=title,
        body=body,
    )


def on_incident_opened(session: Session, payload: dict[str, Any]) -> int:
    channels = session.scalars(
        select(NotificationChannel).where(
            NotificationChannel.on_incident, NotificationChannel.enabled
        )
    )
    incident_id = int(payload["incident_id"])
    title = f"INCIDENT #{incident_id} opened: {payload.get('title') or payload.get('kind', '')}"
    body = "\n".join(f"{k}: {v}" for k, v in payload.items() if v is not None)
    return _plan(
        session,
        list(channels),
        subject="incident",
        subject_id=incident_id,
        reason="opened",
        title=title,
        body=body,
    )


def escalate_overdue(session: Session, now: datetime | None = None) -> int:
    """Plan an escalation for every alarm past its time unacknowledged (each once)."""
    now = now or utcnow()
    overdue = alarms.overdue_unacknowledged(session, now)
    if not overdue:
        return 0
    channels = list(
        session.scalars(select(NotificationChannel).where(NotificationChannel.on_escalation))
    )
    planned = 0
    for alarm in overdue:
        payload = alarms.alarm_payload(alarm)
        wanted = [c for c in channels if _wants(c, payload.get("priority"), payload.get("kind"))]
        title, body = _alarm_text(payload, "escalated")
        planned += _plan(
            session,
            wanted,
            subject="alarm",
            subject_id=alarm.id,
            reason="escalated",
            title=title,
            body=body,
        )
    return planned


def due(session: Session, now: datetime, limit: int = 50) -> list[tuple[int, str, str, str, str]]:
    """Pending deliveries whose time has come: (id, kind, target, title, body)."""
    rows = session.execute(
        select(
            NotificationDelivery.id,
            NotificationChannel.kind,
            NotificationChannel.target,
            NotificationDelivery.title,
            NotificationDelivery.body,
        )
        .join(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
        .where(
            NotificationDelivery.status == "pending",
            NotificationDelivery.next_attempt_at <= now,
        )
        .order_by(NotificationDelivery.id)
        .limit(limit)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def record_attempt(
    session: Session, delivery_id: int, error: str | None, now: datetime | None = None
) -> NotificationDelivery:
    """Sent, or retried later with backoff, or given up after MAX_ATTEMPTS."""
    now = now or utcnow()
    delivery = found(session.get(NotificationDelivery, delivery_id), "delivery")
    delivery.attempts += 1
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, ""
    else:
        delivery.last_error = error[:500]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            wait = BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
            delivery.next_attempt_at = now + timedelta(seconds=wait)
    session.flush()
    return delivery


def list_channels(session: Session) -> list[NotificationChannel]:
    return list(session.scalars(select(NotificationChannel).order_by(NotificationChannel.id)))


def create_channel(session: Session, fields: dict[str, Any]) -> NotificationChannel:
    validate_channel(fields["kind"], fields["target"])
    channel = NotificationChannel(**fields)
    session.add(channel)
    session.flush()
    return channel


def update_channel(
    session: Session, channel_id: int, fields: dict[str, Any]
) -> NotificationChannel:
    channel = found(session.get(NotificationChannel, channel_id), "channel")
    validate_channel(channel.kind, fields.get("target", channel.target))
    for key, value in fields.items():
        setattr(channel, key, value)
    session.flush()
    return channel


def list_deliveries(
    session: Session, page: PageParams, status: str | None = None
) -> tuple[list[NotificationDelivery], int]:
    """What was sent, is waiting, or failed (with the channel's last error), newest first."""
    stmt = select(NotificationDelivery).order_by(NotificationDelivery.id.desc())
    if status:
        stmt = stmt.where(NotificationDelivery.status == status)
    return paginate(session, stmt, page)
