"""HTTP routes of the alarm engine (under /api/v1/safety): definitions, alarms, operator
actions, the journal and the KPIs. Operating needs safety:operate; a company reads its own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from sandan.core.http import DbSession, RegistryRead, SafetyOperate
from sandan.core.pagination import Page, PageParams
from sandan.core.types import IdPath, IdQuery
from sandan.safety.alarms import definitions, report, service
from sandan.safety.alarms.models import Alarm, AlarmDefinition, AlarmJournal
from sandan.safety.alarms.schemas import (
    AlarmOut,
    DefinitionIn,
    DefinitionOut,
    DefinitionPatch,
    JournalOut,
    Kind,
    KpiOut,
    NoteIn,
    Priority,
    ServiceIn,
    ShelveIn,
)
from sandan.safety.alarms.states import State

router = APIRouter(tags=["safety: alarms"])
Operators = Annotated[int, Query(ge=1, le=1000, description="operators on duty")]


@router.get("/alarm-definitions", response_model=Page[DefinitionOut])
def list_definitions(
    principal: RegistryRead,
    session: DbSession,
    page: Annotated[PageParams, Depends()],
    tag_id: IdQuery = None,
    company_id: IdQuery = None,
) -> Page[DefinitionOut]:
    """Alarm definitions: every one for the control centre, its own for a company."""
    rows, total = definitions.list_definitions(
        session, principal, tag_id=tag_id, company_id=company_id, page=page
    )
    items = [DefinitionOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/alarm-definitions", response_model=DefinitionOut, status_code=201)
def create_definition(
    data: DefinitionIn, principal: SafetyOperate, session: DbSession
) -> AlarmDefinition:
    """Define an alarm on a tag: limits with deadband, rate of change, delays, priority."""
    return definitions.create_definition(session, principal, data)


@router.get("/alarm-definitions/{definition_id}", response_model=DefinitionOut)
def get_definition(
    definition_id: IdPath, principal: RegistryRead, session: DbSession
) -> AlarmDefinition:
    """One alarm definition."""
    return definitions.get_definition(session, principal, definition_id)


@router.patch("/alarm-definitions/{definition_id}", response_model=DefinitionOut)
def update_definition(
    definition_id: IdPath, data: DefinitionPatch, principal: SafetyOperate, session: DbSession
) -> AlarmDefinition:
    """Change a definition (a change of what is compared restarts its evaluation)."""
    return definitions.update_definition(session, principal, definition_id, data)


@router.delete("/alarm-definitions/{definition_id}", status_code=204)
def delete_definition(
    definition_id: IdPath, principal: SafetyOperate, session: DbSession
) -> Response:
    """Delete a definition; its open alarms close, its history stays."""
    definitions.delete_definition(session, principal, definition_id)
    return Response(status_code=204)


@router.get("/alarms/kpi", response_model=KpiOut)
def alarm_kpi(
    principal: RegistryRead,
    session: DbSession,
    operators: Operators = 1,
    start: datetime | None = None,
    end: datetime | None = None,
) -> KpiOut:
    """Alarm-system KPIs (EEMUA 191): rate per operator per 10 min, floods, chattering,
    stale alarms, top-10 bad actors, priority distribution; default: the last 24 hours."""
    return report.kpi_report(session, principal, start, end, operators)


@router.get("/alarms/kpi.csv", response_class=Response)
def alarm_kpi_csv(
    principal: RegistryRead,
    session: DbSession,
    operators: Operators = 1,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Response:
    """The KPI report as CSV."""
    body = report.kpi_csv(report.kpi_report(session, principal, start, end, operators))
    return Response(
        body,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="alarm-kpi.csv"'},
    )


@router.get("/alarms", response_model=Page[AlarmOut])
def list_alarms(
    principal: RegistryRead,
    session: DbSession,
    page: Annotated[PageParams, Depends()],
    active_only: bool = True,
    state: State | None = None,
    kind: Kind | None = None,
    priority: Priority | None = None,
    company_id: IdQuery = None,
) -> Page[AlarmOut]:
    """Alarms newest first (active ones unless active_only=false)."""
    rows, total = service.list_alarms(
        session,
        principal,
        active_only=active_only,
        state=state.value if state else None,
        kind=kind,
        priority=priority,
        company_id=company_id,
        page=page,
    )
    items = [AlarmOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/alarms/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: IdPath, principal: RegistryRead, session: DbSession) -> Alarm:
    """One alarm."""
    return service.get_alarm(session, principal, alarm_id)


@router.get("/alarms/{alarm_id}/journal", response_model=list[JournalOut])
def alarm_journal(
    alarm_id: IdPath, principal: RegistryRead, session: DbSession
) -> list[AlarmJournal]:
    """Every transition of the alarm, oldest first."""
    return service.journal(session, principal, alarm_id)


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmOut)
def acknowledge(
    alarm_id: IdPath, data: NoteIn, principal: SafetyOperate, session: DbSession
) -> Alarm:
    """Acknowledge (409 when there is nothing to acknowledge)."""
    return service.acknowledge(session, principal, alarm_id, data.note)


@router.post("/alarms/{alarm_id}/shelve", response_model=AlarmOut)
def shelve(alarm_id: IdPath, data: ShelveIn, principal: SafetyOperate, session: DbSession) -> Alarm:
    """Shelve for some minutes, with a reason; it returns by itself."""
    return service.shelve(session, principal, alarm_id, data.minutes, data.reason)


@router.post("/alarms/{alarm_id}/unshelve", response_model=AlarmOut)
def unshelve(alarm_id: IdPath, data: NoteIn, principal: SafetyOperate, session: DbSession) -> Alarm:
    """Take off the shelf now."""
    return service.unshelve(session, principal, alarm_id, data.note)


@router.post("/alarms/{alarm_id}/out-of-service", response_model=AlarmOut)
def out_of_service(
    alarm_id: IdPath, data: ServiceIn, principal: SafetyOperate, session: DbSession
) -> Alarm:
    """Take out of service (maintenance) or return to service."""
    return service.set_out_of_service(session, principal, alarm_id, data.out_of_service, data.note)


@router.post("/alarms/{alarm_id}/reset", response_model=AlarmOut)
def reset(alarm_id: IdPath, data: NoteIn, principal: SafetyOperate, session: DbSession) -> Alarm:
    """Release a latched alarm once acknowledged and clear."""
    return service.reset_latched(session, principal, alarm_id, data.note)
