"""HTTP routes of incidents (under /api/v1/safety), for the safety duties only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sandan.core.http import DbSession, SafetyOperate
from sandan.core.types import IdPath
from sandan.safety.incidents import report, schemas, service
from sandan.safety.incidents.models import Incident, IncidentTask, TimelineEntry

router = APIRouter(tags=["safety: incidents"])


@router.get("/incidents", response_model=list[schemas.IncidentOut])
def list_incidents(
    principal: SafetyOperate,
    session: DbSession,
    status: Literal["open", "active", "stable", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Incident]:
    """Incidents newest first; `status=open` gives the active and stable ones."""
    return service.list_incidents(session, principal, status, limit)


@router.post("/incidents", response_model=schemas.IncidentOut, status_code=201)
def open_incident(
    data: schemas.IncidentIn, principal: SafetyOperate, session: DbSession
) -> Incident:
    """Open an incident from alarms, with a commander, a place and a radius."""
    return service.open_incident(session, principal, data)


@router.get("/incidents/{incident_id}", response_model=schemas.IncidentDetail)
def incident_detail(
    incident_id: IdPath, principal: SafetyOperate, session: DbSession
) -> schemas.IncidentDetail:
    """The incident with alarms, timeline, tasks and the affected companies (audited)."""
    return service.incident_detail(session, principal, incident_id)


@router.patch("/incidents/{incident_id}", response_model=schemas.IncidentOut)
def update_incident(
    incident_id: IdPath, data: schemas.IncidentPatch, principal: SafetyOperate, session: DbSession
) -> Incident:
    """Change title, kind, severity, commander, place or radius."""
    return service.update_incident(session, principal, incident_id, data)


@router.post("/incidents/{incident_id}/alarms", response_model=list[int])
def link_alarms(
    incident_id: IdPath, data: schemas.AlarmLinkIn, principal: SafetyOperate, session: DbSession
) -> list[int]:
    """Link more alarms; answers the ids linked now."""
    return service.link_alarms(session, principal, incident_id, data.alarm_ids)


@router.post(
    "/incidents/{incident_id}/notes", response_model=schemas.TimelineEntryOut, status_code=201
)
def add_note(
    incident_id: IdPath, data: schemas.NoteIn, principal: SafetyOperate, session: DbSession
) -> TimelineEntry:
    """Add a note to the timeline."""
    return service.add_note(session, principal, incident_id, data.text)


@router.post("/incidents/{incident_id}/tasks", response_model=schemas.TaskOut, status_code=201)
def add_task(
    incident_id: IdPath, data: schemas.TaskIn, principal: SafetyOperate, session: DbSession
) -> IncidentTask:
    """Add a task."""
    return service.add_task(session, principal, incident_id, data)


@router.post("/incidents/{incident_id}/tasks/{task_id}/done", response_model=schemas.TaskOut)
def complete_task(
    incident_id: IdPath, task_id: IdPath, principal: SafetyOperate, session: DbSession
) -> IncidentTask:
    """Mark a task done."""
    return service.complete_task(session, principal, incident_id, task_id)


@router.post("/incidents/{incident_id}/status", response_model=schemas.IncidentOut)
def change_status(
    incident_id: IdPath, data: schemas.StatusIn, principal: SafetyOperate, session: DbSession
) -> Incident:
    """Move between active and stable."""
    return service.change_status(session, principal, incident_id, data.status, data.note)


@router.post("/incidents/{incident_id}/close", response_model=schemas.IncidentOut)
def close_incident(
    incident_id: IdPath, data: schemas.CloseIn, principal: SafetyOperate, session: DbSession
) -> Incident:
    """Close with a summary; the incident is read-only afterwards."""
    return service.close_incident(session, principal, incident_id, data.summary)


_FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
}


@router.get("/incidents/{incident_id}/report", response_class=Response)
def incident_report(
    incident_id: IdPath,
    principal: SafetyOperate,
    session: DbSession,
    format: Literal["md", "html", "csv", "pdf"] = "md",
    lang: Literal["ko", "en"] = "ko",
) -> Response:
    """The closing report as Markdown, HTML or PDF, or the timeline as CSV."""
    detail = service.incident_detail(session, principal, incident_id)
    body = report.render(detail, format, lang)
    media, ext = _FORMATS[format]
    name = f"incident-{incident_id}-{'timeline' if format == 'csv' else 'report'}.{ext}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
