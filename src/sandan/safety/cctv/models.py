"""Cameras of the complex and the detection events they report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class Camera(Audited, Base):
    """A camera known by the name its video analytics (Frigate) reports, placed in a zone and
    site so its detections land on the map and in the right company's view. A company's own
    camera carries its company; a complex camera (gates, roads) has none."""

    __tablename__ = "safety_cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    alarm_labels: Mapped[str] = mapped_column(String(200), default="person,fire,smoke")
    min_score: Mapped[float] = mapped_column(Float, default=0.7)
    priority: Mapped[str] = mapped_column(String(10), default="high")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def labels(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.alarm_labels.split(",") if s.strip())


class CctvEvent(Base):
    """One tracked object as the analytics reported it (new, updates, end), kept whatever
    became of it: joined to an alarm, below the camera's score, a label the camera ignores,
    a false positive, or rejected (unknown camera) - so every report can be inspected."""

    __tablename__ = "safety_cctv_events"
    __table_args__ = (
        UniqueConstraint("camera_name", "object_id"),
        Index("ix_safety_cctv_events_company_started", "company_id", "started_at"),
        Index("ix_safety_cctv_events_open", "camera_name", "label", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[str] = mapped_column(String(80))
    camera_name: Mapped[str] = mapped_column(String(100))
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_cameras.id", ondelete="SET NULL")
    )
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(40))
    sub_label: Mapped[str | None] = mapped_column(String(80))
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    zones: Mapped[str] = mapped_column(String(400), default="")  # comma-separated, entered
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    updates: Mapped[int] = mapped_column(default=0)
    snapshot: Mapped[str | None] = mapped_column(String(200))  # file name under the data dir
    outcome: Mapped[str] = mapped_column(String(20))  # alarm, below_score, ignored, ...
    reason: Mapped[str] = mapped_column(String(300), default="")
    alarm_id: Mapped[int | None] = mapped_column(index=True)
    via: Mapped[str] = mapped_column(String(10))  # mqtt or webhook
