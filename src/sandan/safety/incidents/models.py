"""Tables of incidents. The timeline is append-only: entries are added, never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class Incident(Audited, Base):
    """A physical-world incident in the complex (gas, fire, chemical, ...), led by a commander
    and placed on the map with a radius that decides which companies are affected."""

    __tablename__ = "safety_incidents"
    __table_args__ = (Index("ix_safety_incidents_status", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # gas | fire | chemical | water | traffic | ...
    severity: Mapped[int]  # 1 minor, 2 moderate, 3 major, 4 critical
    status: Mapped[str] = mapped_column(String(8), default="active")  # | stable | closed
    commander_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")  # the closing summary
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class IncidentAlarm(Base):
    """An alarm the incident grew from; the alarm id is a plain integer so incidents do not
    depend on the alarm tables' shape."""

    __tablename__ = "safety_incident_alarms"
    __table_args__ = (UniqueConstraint("incident_id", "alarm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("safety_incidents.id", ondelete="CASCADE"), index=True
    )
    alarm_id: Mapped[int] = mapped_column(index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimelineEntry(Base):
    """One line of the incident's log: opened, alarm_linked, note, task_added, task_done,
    status_changed, closed, changed."""

    __tablename__ = "safety_incident_timeline"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("safety_incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(200))  # the person's name (or system actor)
    author_id: Mapped[int | None]  # the user, when a person wrote it
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(TimelineEntry, "before_update")
def _append_only(_mapper: Any, _conn: Any, target: TimelineEntry) -> None:
    """What was logged stays as logged: a correction is a new entry."""
    raise RuntimeError(f"timeline entry {target.id} is append-only")


class IncidentTask(Audited, Base):
    """Something someone must do during the incident."""

    __tablename__ = "safety_incident_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("safety_incidents.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    assignee: Mapped[str] = mapped_column(String(200), default="")  # a person or a team
    due_at: Mapped[datetime | None]
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
