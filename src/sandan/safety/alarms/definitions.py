"""Alarm definitions: created and changed by the control centre, read by the tag's company.
A change that alters what the evaluator compares (limits, delays, conditions) restarts the
evaluation of that definition: its open alarms see their condition clear, and the next batch
raises again whatever is still abnormal."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.pagination import PageParams, paginate
from sandan.core.tenancy import found, readable
from sandan.registry import service as registry
from sandan.safety.alarms import service
from sandan.safety.alarms.models import Alarm, AlarmDefinition, EvalState
from sandan.safety.alarms.schemas import DefinitionIn, DefinitionPatch, Expression
from sandan.safety.alarms.states import Event

# Fields whose change restarts the evaluation of a definition.
EVALUATED = frozenset(
    {
        "hh",
        "h",
        "l",
        "ll",
        "roc_per_min",
        "deadband",
        "on_delay_s",
        "off_delay_s",
        "when",
        "latching",
    }
)


def definitions_readable(principal: Principal) -> Select[AlarmDefinition]:
    """The control centre reads every definition; a company reads its own."""
    stmt = select(AlarmDefinition)
    if principal.has(Scope.safety_operate):
        return stmt
    return readable(stmt, principal, AlarmDefinition.company_id, Resource.hazards)


def list_definitions(
    session: Session,
    principal: Principal,
    *,
    tag_id: int | None = None,
    company_id: int | None = None,
    page: PageParams | None = None,
) -> tuple[list[AlarmDefinition], int]:
    """Definitions the caller may read, by id."""
    stmt = definitions_readable(principal)
    if tag_id is not None:
        stmt = stmt.where(AlarmDefinition.tag_id == tag_id)
    if company_id is not None:
        stmt = stmt.where(AlarmDefinition.company_id == company_id)
    return paginate(session, stmt.order_by(AlarmDefinition.id), page or PageParams())


def get_definition(session: Session, principal: Principal, definition_id: int) -> AlarmDefinition:
    """One definition the caller may read (404 otherwise)."""
    stmt = definitions_readable(principal).where(AlarmDefinition.id == definition_id)
    return found(session.scalar(stmt), f"alarm definition {definition_id}")


def _operate(principal: Principal) -> None:
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("alarm definitions are managed by the control centre")


def _check(session: Session, principal: Principal, values: dict[str, Any]) -> None:
    """Limits in order (LL < L < H < HH), something to compare, conditions on known tags."""
    present = [(k, values[k]) for k in ("ll", "l", "h", "hh") if values.get(k) is not None]
    for (lower, a), (upper, b) in pairwise(present):
        if not a < b:
            raise ValidationFailed.one(upper, f"must be above {lower} ({a:g})")
    if not present and values.get("roc_per_min") is None:
        raise ValidationFailed.one("h", "give at least one limit (hh, h, l, ll) or roc_per_min")
    for name in ("when", "suppress_when"):
        expr = values.get(name)
        if not expr:
            continue
        ids = [c["tag_id"] for c in (expr.get("all") or expr.get("any") or [])]
        missing = set(ids) - registry.tag_places(session, principal, ids).keys()
        if missing:
            raise ValidationFailed.one(name, f"unknown tag {min(missing)}")


def _dump(expr: Expression | None) -> dict[str, Any] | None:
    return None if expr is None else expr.model_dump(exclude_none=True)


def create_definition(
    session: Session, principal: Principal, data: DefinitionIn
) -> AlarmDefinition:
    """A new definition on a tag; it belongs to the tag's company and sits where the tag's
    device stands."""
    _operate(principal)
    place = registry.tag_places(session, principal, [data.tag_id]).get(data.tag_id)
    if place is None:
        raise ValidationFailed.one("tag_id", f"tag {data.tag_id} not found")
    values = data.model_dump(exclude={"when", "suppress_when"})
    values["when"], values["suppress_when"] = _dump(data.when), _dump(data.suppress_when)
    _check(session, principal, values)
    row = AlarmDefinition(**values, company_id=place.company_id, lat=place.lat, lon=place.lon)
    session.add(row)
    session.flush()
    return row


def update_definition(
    session: Session, principal: Principal, definition_id: int, data: DefinitionPatch
) -> AlarmDefinition:
    """Change a definition; see the module docstring for what a change restarts."""
    _operate(principal)
    row = get_definition(session, principal, definition_id)
    changes: dict[str, Any] = data.model_dump(
        exclude_unset=True, exclude_none=True, exclude={"clear", "when", "suppress_when"}
    )
    for name in ("when", "suppress_when"):
        expr = getattr(data, name)
        if expr is not None:
            changes[name] = _dump(expr)
    changes.update({name: None for name in data.clear})
    merged = {c: getattr(row, c) for c in ("hh", "h", "l", "ll", "roc_per_min")}
    merged.update(changes)
    _check(session, principal, merged)
    now = utcnow()
    for name, value in changes.items():
        setattr(row, name, value)
    alarms = _open_alarms(session, row.id)
    if changes.get("enabled") is False:
        for alarm in alarms:
            service.retire(session, alarm, now, "definition disabled", principal.user_id)
    elif EVALUATED & changes.keys():
        session.execute(delete(EvalState).where(EvalState.definition_id == row.id))
        for alarm in alarms:
            alarm.latching = row.latching
            service.transition(session, alarm, Event.clear, now, note="definition changed")
    if "in_service" in changes:
        event = Event.restore if row.in_service else Event.remove
        for alarm in _open_alarms(session, row.id):
            if alarm.out_of_service != (event is Event.remove):
                service.transition(session, alarm, event, now, by_user_id=principal.user_id)
    if "priority" in changes:
        for alarm in _open_alarms(session, row.id):
            alarm.priority = row.priority
    session.flush()
    return row


def delete_definition(session: Session, principal: Principal, definition_id: int) -> None:
    """Remove a definition; its open alarms are closed, its past alarms kept."""
    _operate(principal)
    row = get_definition(session, principal, definition_id)
    now = utcnow()
    for alarm in _open_alarms(session, row.id):
        service.retire(session, alarm, now, "definition deleted", principal.user_id)
    session.execute(delete(EvalState).where(EvalState.definition_id == row.id))
    session.delete(row)
    session.flush()


def _open_alarms(session: Session, definition_id: int) -> list[Alarm]:
    stmt = select(Alarm).where(Alarm.definition_id == definition_id, Alarm.closed_at.is_(None))
    return list(session.scalars(stmt.order_by(Alarm.id)))
