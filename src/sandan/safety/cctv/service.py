"""CCTV detections in, alarms out. Every report is kept (with what became of it); the objects
of one label seen by one camera while its alarm is active share that one alarm, so a group
walking through a gate is one alarm, not one per person and update (what Frigate's own
review items do, and what flood metrics need)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.pagination import PageParams, paginate
from sandan.core.tenancy import found, readable
from sandan.safety.alarms import service as alarms
from sandan.safety.cctv.frigate import FrigateEvent, TrackedObject, alarm_kind
from sandan.safety.cctv.models import Camera, CctvEvent

MAX_SNAPSHOT = 2 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _source(camera: Camera) -> str:
    return f"cctv:{camera.name}"


def _outcome(camera: Camera | None, obj: TrackedObject) -> tuple[str, str]:
    """What a report is worth: an alarm, or why not."""
    if camera is None:
        return "rejected", f"unknown camera {obj.camera!r}: register it with its zone first"
    if not camera.enabled:
        return "ignored", "the camera is disabled"
    if obj.false_positive:
        return "false_positive", "the analytics marked it a false positive"
    if obj.label not in camera.labels():
        return "ignored", f"the camera does not alarm on {obj.label!r}"
    if obj.best_score() < camera.min_score:
        return "below_score", f"score {obj.best_score():.2f} < {camera.min_score:.2f}"
    return "alarm", ""


def _keep_snapshot(directory: Path, row: CctvEvent, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{_UNSAFE.sub('_', row.camera_name)}-{_UNSAFE.sub('_', row.object_id)}.jpg"
    (directory / name).write_bytes(data)
    row.snapshot = name


def ingest(
    session: Session,
    event: FrigateEvent,
    *,
    via: str,
    snapshot_dir: Path,
    snapshot: bytes | None = None,
    now: datetime | None = None,
) -> CctvEvent:
    """Record one new/update/end report and raise, join or clear the camera's alarm."""
    now = now or utcnow()
    obj = event.after
    camera = session.scalar(select(Camera).where(Camera.name == obj.camera))
    row = session.scalar(
        select(CctvEvent).where(CctvEvent.camera_name == obj.camera, CctvEvent.object_id == obj.id)
    )
    if row is None:
        row = CctvEvent(
            object_id=obj.id,
            camera_name=obj.camera,
            camera_id=camera.id if camera else None,
            company_id=camera.company_id if camera else None,
            label=obj.label,
            started_at=obj.started(),
            updated_at=now,
            via=via,
            outcome="",
            reason="",
            top_score=0.0,
            zones="",
            updates=0,
        )
        session.add(row)
    else:
        row.updates += 1
        row.updated_at = now
    row.sub_label = obj.sub_label_text()
    row.top_score = max(row.top_score, obj.best_score())
    zones = {z for z in row.zones.split(",") if z} | set(obj.entered_zones) | set(obj.current_zones)
    row.zones = ",".join(sorted(zones))[:400]
    if snapshot:
        _keep_snapshot(snapshot_dir, row, snapshot)
    if row.outcome != "alarm":  # a score may rise above the camera's threshold on an update
        row.outcome, row.reason = _outcome(camera, obj)
    if row.outcome == "alarm" and camera is not None and row.alarm_id is None:
        where = f" ({row.zones})" if row.zones else ""
        alarm = alarms.raise_external(
            session,
            source=_source(camera),
            condition=obj.label,
            priority=camera.priority,
            message=f"{obj.label} — {camera.label or camera.name}{where}",
            company_id=camera.company_id,
            lat=camera.lat,
            lon=camera.lon,
            at=obj.started(),
            kind=alarm_kind(obj.label),
        )
        row.alarm_id = alarm.id
    if event.type == "end" or obj.end_time is not None:
        row.ended_at = obj.ended() or now
        session.flush()
        if row.outcome == "alarm" and camera is not None and not _others_open(session, row):
            alarms.clear_external(
                session, source=_source(camera), condition=obj.label, at=row.ended_at
            )
    session.flush()
    return row


def _others_open(session: Session, row: CctvEvent) -> bool:
    """Whether another object of this camera and label still holds the alarm up."""
    count = session.scalar(
        select(func.count())
        .select_from(CctvEvent)
        .where(
            CctvEvent.camera_name == row.camera_name,
            CctvEvent.label == row.label,
            CctvEvent.outcome == "alarm",
            CctvEvent.ended_at.is_(None),
            CctvEvent.id != row.id,
        )
    )
    return bool(count)


def decode_snapshot(text: str | None) -> bytes | None:
    """A webhook's base64 JPEG, checked for size and shape."""
    if not text:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.one("snapshot_b64", "not valid base64") from None
    if len(data) > MAX_SNAPSHOT:
        raise ValidationFailed.one("snapshot_b64", f"larger than {MAX_SNAPSHOT} bytes")
    if not data.startswith(b"\xff\xd8"):
        raise ValidationFailed.one("snapshot_b64", "not a JPEG image")
    return data


def _events(principal: Principal) -> Select[CctvEvent]:
    return readable(select(CctvEvent), principal, CctvEvent.company_id, Resource.hazards)


def list_events(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    camera: str | None = None,
    outcome: str | None = None,
) -> tuple[list[CctvEvent], int]:
    """Reports newest first; a company sees its own cameras', the safety roles all."""
    stmt = _events(principal)
    if camera:
        stmt = stmt.where(CctvEvent.camera_name == camera)
    if outcome:
        stmt = stmt.where(CctvEvent.outcome == outcome)
    return paginate(session, stmt.order_by(CctvEvent.id.desc()), page)


def get_event(session: Session, principal: Principal, event_id: int) -> CctvEvent:
    return found(session.scalar(_events(principal).where(CctvEvent.id == event_id)), "CCTV event")


def list_cameras(session: Session, principal: Principal) -> list[Camera]:
    stmt = readable(select(Camera), principal, Camera.company_id, Resource.hazards)
    return list(session.scalars(stmt.order_by(Camera.name)))


def create_camera(session: Session, principal: Principal, fields: dict[str, Any]) -> Camera:
    """Register a camera under the name its analytics reports (unique)."""
    if session.scalar(select(Camera.id).where(Camera.name == fields["name"])) is not None:
        raise Conflict(f"a camera named {fields['name']!r} exists", field="name")
    camera = Camera(**fields)
    session.add(camera)
    session.flush()
    return camera


def update_camera(
    session: Session, principal: Principal, camera_id: int, fields: dict[str, Any]
) -> Camera:
    camera = found(session.get(Camera, camera_id), "camera")
    for key, value in fields.items():
        setattr(camera, key, value)
    session.flush()
    return camera
