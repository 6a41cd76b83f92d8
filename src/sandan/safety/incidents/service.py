"""Rules of incidents. Only the safety duties (safety:operate) see and run incidents; every
change leaves an entry on the incident's append-only timeline and an event on the bus."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.models import User
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role, Scope
from sandan.safety.incidents import schemas
from sandan.safety.incidents.alarm_link import alarm_summaries, check_alarms
from sandan.safety.incidents.models import Incident, IncidentAlarm, IncidentTask, TimelineEntry
from sandan.safety.register.service import affected_companies

OPENED = "safety.incident_opened"
CHANGED = "safety.incident_changed"
COMMANDER_ROLES = frozenset({Role.safety_operator.value, Role.complex_operator.value})


def _ensure_operator(principal: Principal) -> None:
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("incidents are run by the safety operators (safety:operate)")


def _commander(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active or user.role not in COMMANDER_ROLES:
        raise ValidationFailed.one(
            "commander_id", "must be an active safety operator or complex operator"
        )
    return user


def _log(
    session: Session,
    principal: Principal,
    incident: Incident,
    kind: str,
    text: str = "",
    **data: Any,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident.id,
        at=utcnow(),
        kind=kind,
        author=principal.name,
        author_id=principal.user_id,
        text=text,
        data=data,
    )
    session.add(entry)
    return entry


def _changed(session: Session, incident: Incident, change: str, **extra: Any) -> None:
    raise_event(
        session,
        CHANGED,
        {"incident_id": incident.id, "change": change, "status": incident.status, **extra},
    )


def get_incident(session: Session, principal: Principal, incident_id: int) -> Incident:
    """One incident, for the safety duties."""
    _ensure_operator(principal)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _open_for_change(session: Session, principal: Principal, incident_id: int) -> Incident:
    incident = get_incident(session, principal, incident_id)
    if incident.status == "closed":
        raise Conflict(f"incident {incident_id} is closed")
    return incident


def list_incidents(
    session: Session, principal: Principal, status: str | None = None, limit: int = 200
) -> list[Incident]:
    """Incidents newest first, optionally of one status (`open` means active or stable)."""
    _ensure_operator(principal)
    stmt = select(Incident)
    if status == "open":
        stmt = stmt.where(Incident.status != "closed")
    elif status is not None:
        stmt = stmt.where(Incident.status == status)
    stmt = stmt.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def open_incident(session: Session, principal: Principal, data: schemas.IncidentIn) -> Incident:
    """Open an incident from alarms (or a report by phone), led by a commander."""
    _ensure_operator(principal)
    commander_id = data.commander_id or principal.user_id
    if commander_id is not None:
        _commander(session, commander_id)
    alarm_ids = list(dict.fromkeys(data.alarm_ids))
    check_alarms(session, principal, alarm_ids)
    incident = Incident(
        title=data.title,
        kind=data.kind,
        severity=data.severity,
        status="active",
        commander_id=commander_id,
        lat=data.lat,
        lon=data.lon,
        radius_m=data.radius_m,
        opened_by=principal.name,
        opened_at=utcnow(),
    )
    session.add(incident)
    session.flush()
    _log(session, principal, incident, "opened", data.note, severity=data.severity)
    for alarm_id in alarm_ids:
        session.add(IncidentAlarm(incident_id=incident.id, alarm_id=alarm_id))
        _log(session, principal, incident, "alarm_linked", alarm_id=alarm_id)
    session.flush()
    raise_event(
        session,
        OPENED,
        {
            "incident_id": incident.id,
            "title": incident.title,
            "kind": incident.kind,
            "severity": incident.severity,
            "lat": incident.lat,
            "lon": incident.lon,
            "radius_m": incident.radius_m,
            "alarm_ids": alarm_ids,
        },
    )
    return incident


def update_incident(
    session: Session, principal: Principal, incident_id: int, data: schemas.IncidentPatch
) -> Incident:
    """Change the title, kind, severity, commander, place or radius; each change is logged."""
    incident = _open_for_change(session, principal, incident_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "commander_id" in changes:
        _commander(session, changes["commander_id"])
    before = {k: getattr(incident, k) for k in changes}
    changed = {k: v for k, v in changes.items() if before[k] != v}
    if not changed:
        return incident
    for key, value in changed.items():
        setattr(incident, key, value)
    text = ", ".join(f"{k}: {before[k]} → {v}" for k, v in changed.items())
    _log(session, principal, incident, "changed", text, **changed)
    session.flush()
    _changed(session, incident, "details", fields=sorted(changed))
    return incident


def link_alarms(
    session: Session, principal: Principal, incident_id: int, alarm_ids: list[int]
) -> list[int]:
    """Add alarms to the incident (ones already linked are skipped); the ids linked now."""
    incident = _open_for_change(session, principal, incident_id)
    check_alarms(session, principal, alarm_ids)
    have = set(linked_alarm_ids(session, incident.id))
    new = [a for a in dict.fromkeys(alarm_ids) if a not in have]
    for alarm_id in new:
        session.add(IncidentAlarm(incident_id=incident.id, alarm_id=alarm_id))
        _log(session, principal, incident, "alarm_linked", alarm_id=alarm_id)
    session.flush()
    if new:
        _changed(session, incident, "alarms", alarm_ids=new)
    return new


def linked_alarm_ids(session: Session, incident_id: int) -> list[int]:
    """The alarms linked to an incident, in the order they were linked."""
    return list(
        session.scalars(
            select(IncidentAlarm.alarm_id)
            .where(IncidentAlarm.incident_id == incident_id)
            .order_by(IncidentAlarm.id)
        )
    )


def incidents_of_alarm(session: Session, principal: Principal, alarm_id: int) -> list[int]:
    """Ids of the incidents an alarm is linked to (the alarm list links to them)."""
    _ensure_operator(principal)
    return list(
        session.scalars(
            select(IncidentAlarm.incident_id)
            .where(IncidentAlarm.alarm_id == alarm_id)
            .order_by(IncidentAlarm.incident_id)
        )
    )


def add_note(session: Session, principal: Principal, incident_id: int, text: str) -> TimelineEntry:
    """A note on the timeline."""
    incident = _open_for_change(session, principal, incident_id)
    entry = _log(session, principal, incident, "note", text)
    session.flush()
    _changed(session, incident, "note")
    return entry


def add_task(
    session: Session, principal: Principal, incident_id: int, data: schemas.TaskIn
) -> IncidentTask:
    """A task for someone; the timeline says who added it."""
    incident = _open_for_change(session, principal, incident_id)
    task = IncidentTask(
        incident_id=incident.id, title=data.title, assignee=data.assignee, due_at=data.due_at
    )
    session.add(task)
    session.flush()
    _log(session, principal, incident, "task_added", data.title, task_id=task.id)
    session.flush()
    _changed(session, incident, "task", task_id=task.id)
    return task


def complete_task(
    session: Session, principal: Principal, incident_id: int, task_id: int
) -> IncidentTask:
    """Mark a task done (once)."""
    incident = _open_for_change(session, principal, incident_id)
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"task {task_id} not found")
    if task.done:
        raise Conflict(f"task {task_id} is already done")
    task.done, task.done_at = True, utcnow()
    _log(session, principal, incident, "task_done", task.title, task_id=task.id)
    session.flush()
    _changed(session, incident, "task", task_id=task.id)
    return task


def change_status(
    session: Session, principal: Principal, incident_id: int, status: str, note: str = ""
) -> Incident:
    """Active ↔ stable (closing has its own step, with a summary)."""
    if status not in ("active", "stable"):
        raise ValidationFailed.one("status", "must be active or stable; close with a summary")
    incident = _open_for_change(session, principal, incident_id)
    if incident.status == status:
        raise Conflict(f"incident {incident_id} is already {status}")
    before, incident.status = incident.status, status
    _log(session, principal, incident, "status_changed", note, before=before, after=status)
    session.flush()
    _changed(session, incident, "status", before=before)
    return incident


def close_incident(
    session: Session, principal: Principal, incident_id: int, summary: str
) -> Incident:
    """Close the incident with its summary; nothing changes after that."""
    if not summary.strip():
        raise ValidationFailed.one("summary", "say how the incident ended")
    incident = _open_for_change(session, principal, incident_id)
    before = incident.status
    incident.status, incident.summary, incident.closed_at = "closed", summary.strip(), utcnow()
    _log(session, principal, incident, "closed", incident.summary, before=before)
    session.flush()
    _changed(session, incident, "status", before=before)
    return incident


def incident_detail(
    session: Session, principal: Principal, incident_id: int
) -> schemas.IncidentDetail:
    """The incident with its commander, alarms, timeline, tasks and the companies within its
    radius (with their hazardous materials and emergency contacts)."""
    incident = get_incident(session, principal, incident_id)
    commander = session.get(User, incident.commander_id) if incident.commander_id else None
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    tasks = session.scalars(
        select(IncidentTask)
        .where(IncidentTask.incident_id == incident.id)
        .order_by(IncidentTask.id)
    )
    return schemas.IncidentDetail(
        incident=schemas.IncidentOut.model_validate(incident),
        commander_name=commander.name if commander else "",
        alarms=alarm_summaries(session, principal, linked_alarm_ids(session, incident.id)),
        timeline=[schemas.TimelineEntryOut.model_validate(e) for e in timeline],
        tasks=[schemas.TaskOut.model_validate(t) for t in tasks],
        affected=affected_companies(
            session, principal, incident.lat, incident.lon, incident.radius_m
        ),
    )
