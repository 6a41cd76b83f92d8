"""HTTP routes of CCTV: cameras, the detections they reported, their snapshots, and a
generic webhook for video analytics that do not speak Frigate's MQTT."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from sandan.core.errors import NotFound
from sandan.core.http import DbSession, RegistryRead, SafetyOperate, get_context
from sandan.core.pagination import Page, PageParams
from sandan.core.types import IdPath
from sandan.safety.cctv import service
from sandan.safety.cctv.frigate import FrigateEvent, TrackedObject
from sandan.safety.cctv.schemas import (
    CameraIn,
    CameraOut,
    CameraPatch,
    CctvEventOut,
    WebhookEvent,
)

router = APIRouter(prefix="/cctv")
Paging = Annotated[PageParams, Depends()]


def snapshot_dir(request: Request) -> Path:
    """Where snapshots are kept: under the data directory, beside the databases."""
    return Path(get_context(request).settings.data_dir) / "cctv"


@router.get("/cameras", response_model=list[CameraOut])
def list_cameras(principal: RegistryRead, session: DbSession) -> list[Any]:
    """Cameras the caller may see: its company's own; the safety roles see all."""
    return service.list_cameras(session, principal)


@router.post("/cameras", response_model=CameraOut, status_code=201)
def create_camera(body: CameraIn, principal: SafetyOperate, session: DbSession) -> Any:
    """Register a camera under the name its analytics reports, placed on the map."""
    fields = body.model_dump()
    fields["alarm_labels"] = ",".join(body.alarm_labels)
    return service.create_camera(session, principal, fields)


@router.patch("/cameras/{camera_id}", response_model=CameraOut)
def update_camera(
    camera_id: IdPath, body: CameraPatch, principal: SafetyOperate, session: DbSession
) -> Any:
    fields = body.model_dump(exclude_unset=True)
    if body.alarm_labels is not None:
        fields["alarm_labels"] = ",".join(body.alarm_labels)
    return service.update_camera(session, principal, camera_id, fields)


@router.get("/events", response_model=Page[CctvEventOut])
def list_events(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    camera: str | None = None,
    outcome: str | None = None,
) -> Page[CctvEventOut]:
    """Detections newest first, with what became of each (alarm, below score, ...)."""
    rows, total = service.list_events(session, principal, page, camera=camera, outcome=outcome)
    return Page(
        items=[CctvEventOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/events/{cctv_event_id}", response_model=CctvEventOut)
def get_event(cctv_event_id: IdPath, principal: RegistryRead, session: DbSession) -> Any:
    return service.get_event(session, principal, cctv_event_id)


@router.get("/events/{cctv_event_id}/snapshot", response_class=FileResponse)
def get_snapshot(
    cctv_event_id: IdPath, principal: RegistryRead, session: DbSession, request: Request
) -> FileResponse:
    """The JPEG the analytics sent with the detection."""
    row = service.get_event(session, principal, cctv_event_id)
    path = snapshot_dir(request) / row.snapshot if row.snapshot else None
    if path is None or not path.is_file():
        raise NotFound("this detection has no snapshot")
    return FileResponse(path, media_type="image/jpeg")


@router.post("/webhook", response_model=CctvEventOut)
def webhook(
    body: WebhookEvent, principal: SafetyOperate, session: DbSession, request: Request
) -> Any:
    """A detection from any analytics: raises, joins or clears the camera's alarm exactly as
    a Frigate MQTT event does."""
    snapshot = service.decode_snapshot(body.snapshot_b64)
    obj = TrackedObject(
        id=body.object_id,
        camera=body.camera,
        label=body.label,
        top_score=body.score,
        score=body.score,
        false_positive=body.false_positive,
        start_time=body.started_at.astimezone(UTC).timestamp(),
        end_time=body.ended_at.astimezone(UTC).timestamp() if body.ended_at else None,
        entered_zones=body.zones,
    )
    event = FrigateEvent(type=body.type, after=obj)
    return service.ingest(
        session,
        event,
        via="webhook",
        snapshot_dir=snapshot_dir(request),
        snapshot=snapshot,
        now=datetime.now(UTC),
    )
