"""Alarms: raise and clear from any feed, operator actions, reads scoped to the caller's
company. Every change goes through `transition`, which applies the ISA-18.2 state machine,
writes the journal and raises `safety.alarm_raised` / `safety.alarm_changed` on the bus."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import Conflict, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.pagination import PageParams, paginate
from sandan.core.tenancy import found, readable
from sandan.safety.alarms import states
from sandan.safety.alarms.models import Alarm, AlarmJournal
from sandan.safety.alarms.schemas import KINDS, PRIORITIES
from sandan.safety.alarms.states import Event, InvalidTransition, State, Status

# Unacknowledged longer than this (by priority) escalates when the definition names no time.
ESCALATE_AFTER_S = {"critical": 60, "high": 300, "medium": 900, "low": 1800}
Ts = TypeVarTuple("Ts")
RAISED, CHANGED = "safety.alarm_raised", "safety.alarm_changed"


def status_of(alarm: Alarm) -> Status:
    return Status(
        in_alarm=alarm.in_alarm,
        acked=alarm.acked,
        held=alarm.held,
        shelved=alarm.shelved,
        suppressed=alarm.suppressed,
        out_of_service=alarm.out_of_service,
    )


def alarm_payload(alarm: Alarm) -> dict[str, Any]:
    """What the bus, the notifier and the live map get about an alarm."""
    return {
        "id": alarm.id,
        "state": alarm.state,
        "priority": alarm.priority,
        "kind": alarm.kind,
        "source": alarm.source,
        "condition": alarm.condition,
        "message": alarm.message,
        "company_id": alarm.company_id,
        "lat": alarm.lat,
        "lon": alarm.lon,
        "value": alarm.value,
        "at": as_utc(alarm.last_at).isoformat(),
    }


def transition(
    session: Session,
    alarm: Alarm,
    event: Event,
    at: datetime,
    *,
    by_user_id: int | None = None,
    note: str = "",
    value: float | None = None,
) -> bool:
    """Apply one event; journal and announce it when the flags changed. Operator actions the
    state does not allow raise Conflict (409)."""
    before = status_of(alarm)
    try:
        after = states.apply(before, event, latching=alarm.latching)
    except InvalidTransition as exc:
        raise Conflict(str(exc), state=exc.state.value, event=exc.event.value) from exc
    if value is not None:
        alarm.value = value
    alarm.last_at = max(as_utc(alarm.last_at), as_utc(at))
    if after == before:
        return False
    _store(alarm, after)
    if event is Event.alarm:  # a new annunciation of this occurrence
        alarm.raised_at, alarm.escalated_at = at, None
        alarm.acked_at = alarm.acked_by_user_id = None
    if event is Event.acknowledge:
        alarm.acked_at, alarm.acked_by_user_id = at, by_user_id
    if not after.shelved:
        alarm.shelved_until, alarm.shelve_reason = None, ""
    if not after.open:
        alarm.closed_at = at
    _journal(session, alarm, event, at, before.state, after.state, by_user_id, note)
    return True


def _store(alarm: Alarm, status: Status) -> None:
    alarm.in_alarm, alarm.acked, alarm.held = status.in_alarm, status.acked, status.held
    alarm.shelved, alarm.suppressed = status.shelved, status.suppressed
    alarm.out_of_service = status.out_of_service
    alarm.state = status.state.value


def _journal(
    session: Session,
    alarm: Alarm,
    event: Event | str,
    at: datetime,
    before: State,
    after: State,
    by_user_id: int | None,
    note: str,
) -> None:
    session.add(
        AlarmJournal(
            alarm_id=alarm.id,
            at=at,
            event=str(event),
            from_state=before.value,
            to_state=after.value,
            by_user_id=by_user_id,
            note=note[:500],
        )
    )
    raised = after is State.unacknowledged and before is not State.unacknowledged
    raise_event(session, RAISED if raised else CHANGED, alarm_payload(alarm))


def open_alarm(
    session: Session,
    *,
    source: str,
    condition: str,
    kind: str,
    priority: str,
    message: str,
    company_id: int | None,
    lat: float | None,
    lon: float | None,
    at: datetime,
    value: float | None = None,
    definition_id: int | None = None,
    latching: bool = False,
    suppressed: bool = False,
    out_of_service: bool = False,
    escalate_after_s: int | None = None,
) -> Alarm:
    """A new occurrence (the caller knows no alarm of this source and condition is open)."""
    status = states.opened(latching=latching, suppressed=suppressed, out_of_service=out_of_service)
    alarm = Alarm(
        source=source[:120],
        condition=condition[:60],
        definition_id=definition_id,
        company_id=company_id,
        kind=kind,
        priority=priority,
        message=message[:500],
        lat=lat,
        lon=lon,
        latching=latching,
        escalate_after_s=escalate_after_s or ESCALATE_AFTER_S[priority],
        value=value,
        raised_at=at,
        first_raised_at=at,
        last_at=at,
    )
    _store(alarm, status)
    session.add(alarm)
    session.flush()
    _journal(session, alarm, Event.alarm, at, State.normal, status.state, None, "")
    return alarm


def retire(session: Session, alarm: Alarm, at: datetime, note: str, by_user_id: int | None) -> None:
    """Close an open alarm whatever its state: its definition was disabled, changed or
    deleted, so nothing will ever clear it."""
    if alarm.closed_at is not None:
        return
    before = status_of(alarm).state
    _store(alarm, Status())
    alarm.closed_at, alarm.shelved_until = at, None
    _journal(session, alarm, "retire", at, before, State.normal, by_user_id, note)


def open_for(session: Session, source: str, condition: str) -> Alarm | None:
    """The open alarm of a source and condition, if any."""
    return session.scalar(
        select(Alarm).where(
            Alarm.source == source, Alarm.condition == condition, Alarm.closed_at.is_(None)
        )
    )


# --- for other areas: alarms from CCTV, water, notifications ----------------------------------


def raise_external(
    session: Session,
    *,
    source: str,
    condition: str,
    priority: str,
    message: str,
    company_id: int | None,
    lat: float | None,
    lon: float | None,
    at: datetime,
    kind: str,
    value: float | None = None,
    escalate_after_s: int | None = None,
) -> Alarm:
    """Raise an alarm from another feed (CCTV, water leaks, ...). Deduplicated: the open alarm
    of (source, condition) is returned, re-raised if it had returned to normal."""
    if kind not in KINDS:
        raise ValidationFailed.one("kind", f"one of {', '.join(KINDS)}")
    if priority not in PRIORITIES:
        raise ValidationFailed.one("priority", f"one of {', '.join(PRIORITIES)}")
    at = as_utc(at)
    alarm = open_for(session, source, condition)
    if alarm is None:
        return open_alarm(
            session,
            source=source,
            condition=condition,
            kind=kind,
            priority=priority,
            message=message,
            company_id=company_id,
            lat=lat,
            lon=lon,
            at=at,
            value=value,
            escalate_after_s=escalate_after_s,
        )
    alarm.message = message[:500]
    transition(session, alarm, Event.alarm, at, value=value)
    session.flush()
    return alarm


def clear_external(session: Session, *, source: str, condition: str, at: datetime) -> Alarm | None:
    """The condition of an external alarm returned to normal: RTN-unacknowledged, or normal
    when it was acknowledged; None when no alarm of (source, condition) is open."""
    alarm = open_for(session, source, condition)
    if alarm is not None:
        transition(session, alarm, Event.clear, as_utc(at))
        session.flush()
    return alarm


# --- reads --------------------------------------------------------------------------------------


def scoped(stmt: Select[*Ts], principal: Principal) -> Select[*Ts]:
    """Filter a select over alarms: the control centre sees every alarm, a company its own
    (complex-level alarms, without a company, only the control centre)."""
    if principal.has(Scope.safety_operate):
        return stmt
    return readable(stmt, principal, Alarm.company_id, Resource.hazards)


def alarms_readable(principal: Principal) -> Select[Alarm]:
    """The alarms the principal may see."""
    return scoped(select(Alarm), principal)


def list_alarms(
    session: Session,
    principal: Principal,
    *,
    active_only: bool = True,
    state: str | None = None,
    kind: str | None = None,
    priority: str | None = None,
    company_id: int | None = None,
    page: PageParams | None = None,
) -> tuple[list[Alarm], int]:
    """Alarms the caller may see, newest first; active = not returned to normal."""
    stmt = alarms_readable(principal)
    if active_only:
        stmt = stmt.where(Alarm.closed_at.is_(None))
    if state is not None:
        stmt = stmt.where(Alarm.state == state)
    if kind is not None:
        stmt = stmt.where(Alarm.kind == kind)
    if priority is not None:
        stmt = stmt.where(Alarm.priority == priority)
    if company_id is not None:
        stmt = stmt.where(Alarm.company_id == company_id)
    stmt = stmt.order_by(Alarm.raised_at.desc(), Alarm.id.desc())
    return paginate(session, stmt, page or PageParams())


def get_alarm(session: Session, principal: Principal, alarm_id: int) -> Alarm:
    """One alarm the caller may see (404 otherwise)."""
    alarm = session.scalar(alarms_readable(principal).where(Alarm.id == alarm_id))
    return found(alarm, f"alarm {alarm_id}")


def journal(session: Session, principal: Principal, alarm_id: int) -> list[AlarmJournal]:
    """Every transition of an alarm, oldest first."""
    alarm = get_alarm(session, principal, alarm_id)
    stmt = select(AlarmJournal).where(AlarmJournal.alarm_id == alarm.id)
    return list(session.scalars(stmt.order_by(AlarmJournal.at, AlarmJournal.id)))


# --- operator actions ---------------------------------------------------------------------------


def _operable(session: Session, principal: Principal, alarm_id: int) -> Alarm:
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("operating alarms needs safety:operate")
    return get_alarm(session, principal, alarm_id)


def _act(
    session: Session,
    principal: Principal,
    alarm_id: int,
    event: Event,
    note: str,
    at: datetime | None,
) -> Alarm:
    alarm = _operable(session, principal, alarm_id)
    transition(session, alarm, event, at or utcnow(), by_user_id=principal.user_id, note=note)
    session.flush()
    return alarm


def acknowledge(
    session: Session,
    principal: Principal,
    alarm_id: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> Alarm:
    """The operator has seen it: unacknowledged → acknowledged, RTN-unack → normal."""
    return _act(session, principal, alarm_id, Event.acknowledge, note, at)


def shelve(
    session: Session,
    principal: Principal,
    alarm_id: int,
    minutes: int,
    reason: str,
    *,
    at: datetime | None = None,
) -> Alarm:
    """Hide an annunciated alarm for a while; it comes back by itself (`unshelve_expired`)."""
    if not 1 <= minutes <= 7 * 24 * 60:
        raise ValidationFailed.one("minutes", "between 1 and 10080")
    if not reason.strip():
        raise ValidationFailed.one("reason", "say why the alarm is shelved")
    now = at or utcnow()
    alarm = _act(session, principal, alarm_id, Event.shelve, reason, now)
    alarm.shelved_until, alarm.shelve_reason = now + timedelta(minutes=minutes), reason[:300]
    session.flush()
    return alarm


def unshelve(
    session: Session,
    principal: Principal,
    alarm_id: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> Alarm:
    """Take an alarm off the shelf before its time: still abnormal → unacknowledged."""
    return _act(session, principal, alarm_id, Event.unshelve, note, at)


def set_out_of_service(
    session: Session,
    principal: Principal,
    alarm_id: int,
    out_of_service: bool,
    note: str = "",
    *,
    at: datetime | None = None,
) -> Alarm:
    """Take an alarm out of service (maintenance) or return it."""
    event = Event.remove if out_of_service else Event.restore
    return _act(session, principal, alarm_id, event, note, at)


def reset_latched(
    session: Session,
    principal: Principal,
    alarm_id: int,
    note: str = "",
    *,
    at: datetime | None = None,
) -> Alarm:
    """Release a latched alarm: only once it is acknowledged and its condition has cleared."""
    return _act(session, principal, alarm_id, Event.reset, note, at)


# --- jobs ---------------------------------------------------------------------------------------


def unshelve_expired(session: Session, now: datetime | None = None) -> list[Alarm]:
    """Shelved alarms whose time ran out come back (ISA-18.2: shelving is time-limited)."""
    now = now or utcnow()
    stmt = select(Alarm).where(Alarm.closed_at.is_(None), Alarm.shelved, Alarm.shelved_until <= now)
    expired = list(session.scalars(stmt.order_by(Alarm.id)))
    for alarm in expired:
        transition(session, alarm, Event.unshelve, now, note="shelf time ran out")
    session.flush()
    return expired


def overdue_unacknowledged(session: Session, now: datetime | None = None) -> list[Alarm]:
    """Annunciated alarms unacknowledged past their escalation time, each returned once per
    occurrence (they are marked escalated; a re-alarm starts the clock again)."""
    now = now or utcnow()
    stmt = select(Alarm).where(
        Alarm.closed_at.is_(None),
        Alarm.state.in_([State.unacknowledged.value, State.rtn_unacknowledged.value]),
        Alarm.escalated_at.is_(None),
        Alarm.escalate_after_s.is_not(None),
    )
    overdue = [
        a
        for a in session.scalars(stmt.order_by(Alarm.raised_at, Alarm.id))
        if as_utc(a.raised_at) + timedelta(seconds=a.escalate_after_s or 0) <= now
    ]
    for alarm in overdue:
        alarm.escalated_at = now
    session.flush()
    return overdue
