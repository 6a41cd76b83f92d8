"""HTTP routes of analytics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from sandan.analytics import service
from sandan.analytics.report import GroupBy
from sandan.analytics.schemas import (
    DowntimeEventOut,
    DowntimePage,
    OeeOut,
    OeeReport,
    ReasonIn,
    ReasonOut,
    StateRuleIn,
    StateRuleOut,
)
from sandan.analytics.shifts import ShiftPlan
from sandan.core.http import DbSession, RegistryRead, get_context
from sandan.core.pagination import PageParams
from sandan.core.types import IdPath
from sandan.telemetry.deps import Store

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


@router.get("/machines/{machine_id}/oee", response_model=OeeOut)
def machine_oee(
    machine_id: IdPath,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    ideal_cycle_s: Annotated[float | None, Query(gt=0, le=86_400)] = None,
) -> dict[str, Any]:
    """OEE after ISO 22400 (availability × performance × quality) with the six big losses,
    from the machine's raw readings; default window: the last hour."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=1)
    return service.machine_oee(session, principal, store, machine_id, start, end, ideal_cycle_s)


@dataclass(frozen=True)
class ReportArgs:
    start: datetime | None
    end: datetime | None
    group_by: GroupBy


def report_args(
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: GroupBy = "none",
    shifts: Annotated[
        str | None, Query(max_length=200, description="shift starts, local: 06:00,14:00,22:00")
    ] = None,
    tz: Annotated[str | None, Query(max_length=64, description="IANA zone: Asia/Seoul")] = None,
) -> tuple[ShiftPlan, ReportArgs]:
    """The window, grouping and shifts of an OEE report (shifts and zone from the settings
    unless given)."""
    settings = get_context(request).settings
    plan = ShiftPlan.parse(shifts or settings.shifts, tz or settings.plant_timezone)
    return plan, ReportArgs(start, end, group_by)


@dataclass(frozen=True)
class DowntimeArgs:
    start: datetime | None
    end: datetime | None
    unassigned: bool


def downtime_args(
    request: Request,
    page: Annotated[PageParams, Depends()],
    start: datetime | None = None,
    end: datetime | None = None,
    unassigned: bool = False,
) -> tuple[timedelta, PageParams, DowntimeArgs]:
    """The window and page of a downtime list; the shortest idle event from the settings."""
    minutes = get_context(request).settings.downtime_min_idle_minutes
    return timedelta(minutes=minutes), page, DowntimeArgs(start, end, unassigned)


Report = Annotated[tuple[ShiftPlan, ReportArgs], Depends(report_args)]
Downtime = Annotated[tuple[timedelta, PageParams, DowntimeArgs], Depends(downtime_args)]


@router.get("/companies/{company_id}/oee", response_model=OeeReport)
def company_oee(
    company_id: IdPath, principal: RegistryRead, session: DbSession, store: Store, args: Report
) -> dict[str, Any]:
    """A company's OEE, six big losses, output and kWh per good unit, in total and per
    machine, line, production day, shift (across days) or shift of each day; whole hours,
    default the last 24. The total is the company's production and energy summary."""
    plan, rest = args
    return service.oee_report(session, principal, store, plan, company_id=company_id, **vars(rest))


@router.get("/lines/{line_id}/oee", response_model=OeeReport)
def line_oee(
    line_id: IdPath, principal: RegistryRead, session: DbSession, store: Store, args: Report
) -> dict[str, Any]:
    """The same for the machines of one line."""
    plan, rest = args
    return service.oee_report(session, principal, store, plan, line_id=line_id, **vars(rest))


@router.get("/companies/{company_id}/downtime", response_model=DowntimePage)
def company_downtime(
    company_id: IdPath, principal: RegistryRead, session: DbSession, store: Store, args: Downtime
) -> dict[str, Any]:
    """A company's downtime events in a window (default the last 24 hours, at most 7 days),
    newest first, found in the machines' states on the way, with the time per reason."""
    idle, page, rest = args
    return service.downtime_events(
        session, principal, store, idle, page, company_id=company_id, **vars(rest)
    )


@router.get("/machines/{machine_id}/downtime", response_model=DowntimePage)
def machine_downtime(
    machine_id: IdPath, principal: RegistryRead, session: DbSession, store: Store, args: Downtime
) -> dict[str, Any]:
    """A machine's downtime events (at most 31 days)."""
    idle, page, rest = args
    return service.downtime_events(
        session, principal, store, idle, page, machine_id=machine_id, **vars(rest)
    )


@router.patch("/downtime/{event_id}", response_model=DowntimeEventOut)
def give_reason(
    event_id: IdPath, body: ReasonIn, principal: RegistryRead, session: DbSession
) -> dict[str, Any]:
    """Give a downtime event its reason (a code of /downtime-reasons) and a note; for those
    who write the owning company, and operators. Audited."""
    changes = body.model_dump(exclude_unset=True)
    return service.give_downtime_reason(session, principal, event_id, changes)


@router.get("/downtime-reasons", response_model=list[ReasonOut])
def downtime_reasons(principal: RegistryRead) -> list[dict[str, str]]:
    """The reasons to choose from, with English and Korean labels."""
    return service.downtime_reasons()


@router.get("/machines/{machine_id}/state-rule", response_model=StateRuleOut)
def state_rule(machine_id: IdPath, principal: RegistryRead, session: DbSession) -> dict[str, Any]:
    """The power thresholds that give a machine without a state tag its states (404: none)."""
    return service.state_rule(session, principal, machine_id)


@router.put("/machines/{machine_id}/state-rule", response_model=StateRuleOut)
def put_state_rule(
    machine_id: IdPath, body: StateRuleIn, principal: RegistryRead, session: DbSession
) -> dict[str, Any]:
    """Set a machine's power thresholds: mean power at or above `run_kw` is running, at or
    above `idle_kw` idle, below it `off_state`; used while the machine has no state tag. For
    those who write the machine's company, and operators. Audited."""
    return service.put_state_rule(
        session, principal, machine_id, body.idle_kw, body.run_kw, body.off_state
    )


@router.delete("/machines/{machine_id}/state-rule", status_code=204)
def delete_state_rule(machine_id: IdPath, principal: RegistryRead, session: DbSession) -> None:
    """Remove a machine's state rule. Audited."""
    service.delete_state_rule(session, principal, machine_id)


@router.get("/companies/{company_id}/state-rules", response_model=list[StateRuleOut])
def company_state_rules(
    company_id: IdPath, principal: RegistryRead, session: DbSession
) -> list[dict[str, Any]]:
    """A company's state rules, by machine code, each saying whether it is in effect."""
    return service.list_state_rules(session, principal, company_id)
