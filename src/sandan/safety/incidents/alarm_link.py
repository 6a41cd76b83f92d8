"""The alarms an incident grew from. The alarm engine (`sandan.safety.alarms`) owns alarms;
incidents keep only their ids and ask the engine's service to check and describe them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sandan.core.errors import NotFound, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarms
from sandan.safety.incidents.schemas import AlarmSummary


def check_alarms(session: Session, principal: Principal, alarm_ids: list[int]) -> None:
    """Raise ValidationFailed naming `alarm_ids` when an id is not an alarm the caller sees."""
    for alarm_id in alarm_ids:
        try:
            alarms.get_alarm(session, principal, alarm_id)
        except NotFound:
            raise ValidationFailed.one("alarm_ids", f"no alarm {alarm_id}") from None


def alarm_summaries(
    session: Session, principal: Principal, alarm_ids: list[int]
) -> list[AlarmSummary]:
    """A line per linked alarm, in the order given (an alarm gone from the engine keeps its
    id)."""
    found: list[AlarmSummary] = []
    for alarm_id in alarm_ids:
        try:
            alarm = alarms.get_alarm(session, principal, alarm_id)
        except NotFound:
            found.append(AlarmSummary(id=alarm_id))
            continue
        found.append(
            AlarmSummary(
                id=alarm.id,
                text=alarm.message,
                priority=alarm.priority,
                state=alarm.state,
                raised_at=alarm.raised_at,
            )
        )
    return found
