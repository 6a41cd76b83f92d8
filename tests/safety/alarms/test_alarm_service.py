"""Alarms in the database: one open alarm per source and condition (also enforced by the
database), the journal and bus events of every transition, shelving with its timeout,
escalation, operator actions and who may see and operate what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conftest import World
from sandan.core.context import Context
from sandan.core.db import EVENTS_KEY
from sandan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role
from sandan.safety.alarms import service
from sandan.safety.alarms.models import Alarm, AlarmJournal

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SYSTEM = Principal.system("test")


def gas(session, at=T0, source="gas:A1", company_id=None, priority="high"):
    return service.raise_external(
        session,
        source=source,
        condition="HIGH",
        priority=priority,
        message="gas high",
        company_id=company_id,
        lat=36.1,
        lon=128.4,
        at=at,
        kind="gas",
    )


def operator(world: World, who: str = "safety") -> Principal:
    roles = {
        "safety": Role.safety_operator,
        "admin_a": Role.company_admin,
        "admin_b": Role.company_admin,
    }
    company = {"admin_a": world.companies["A"], "admin_b": world.companies["B"]}.get(who)
    return Principal.for_user(world.users[who], who, company, frozenset({roles[who]}))


def test_raising_twice_gives_the_same_alarm(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        first = gas(s)
        again = gas(s, T0 + timedelta(seconds=5))
        assert again.id == first.id and again.state == "unacknowledged"
        assert again.last_at == T0 + timedelta(seconds=5)
        other = gas(s, source="gas:A2")
        assert other.id != first.id
        assert (
            s.scalar(select(Alarm.id).where(Alarm.closed_at.is_(None)).order_by(Alarm.id).limit(5))
            == first.id
        )


def test_the_database_refuses_a_second_open_alarm(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        first = gas(s)
        row = {
            c: getattr(first, c)
            for c in (
                "source",
                "condition",
                "kind",
                "priority",
                "state",
                "raised_at",
                "first_raised_at",
                "last_at",
            )
        }
    with pytest.raises(IntegrityError), ctx.db.unit(SYSTEM) as s:
        s.add(Alarm(**row))
        s.flush()
    with ctx.db.unit(SYSTEM) as s:  # once the first has closed, a new occurrence may open
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(minutes=1))
        service.acknowledge(s, SYSTEM, first.id, at=T0 + timedelta(minutes=2))
        assert s.get(Alarm, first.id).closed_at is not None
        second = gas(s, T0 + timedelta(minutes=3))
        assert second.id != first.id


def test_return_to_normal_then_ack_and_the_journal(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        alarm = gas(s)
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(seconds=30))
        assert alarm.state == "rtn_unacknowledged" and alarm.closed_at is None
        gas(s, T0 + timedelta(seconds=40))  # re-alarm: the same row is announced again
        assert alarm.state == "unacknowledged" and alarm.raised_at == T0 + timedelta(seconds=40)
        service.acknowledge(s, SYSTEM, alarm.id, "seen", at=T0 + timedelta(minutes=1))
        assert alarm.state == "acknowledged"
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(minutes=2))
        assert alarm.state == "normal" and alarm.closed_at == T0 + timedelta(minutes=2)
        events = [e.subject for e in s.info[EVENTS_KEY]]
        steps = [
            (j.event, j.from_state, j.to_state, j.note)
            for j in service.journal(s, SYSTEM, alarm.id)
        ]
    assert steps == [
        ("alarm", "normal", "unacknowledged", ""),
        ("clear", "unacknowledged", "rtn_unacknowledged", ""),
        ("alarm", "rtn_unacknowledged", "unacknowledged", ""),
        ("acknowledge", "unacknowledged", "acknowledged", "seen"),
        ("clear", "acknowledged", "normal", ""),
    ]
    assert events == [
        "safety.alarm_raised",
        "safety.alarm_changed",
        "safety.alarm_raised",
        "safety.alarm_changed",
        "safety.alarm_changed",
    ]


def test_shelving_times_out_and_the_alarm_returns(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        alarm = gas(s)
        with pytest.raises(ValidationFailed):
            service.shelve(s, SYSTEM, alarm.id, 5, " ", at=T0)
        service.shelve(s, SYSTEM, alarm.id, 5, "sensor being calibrated", at=T0)
        assert alarm.state == "shelved" and alarm.shelved_until == T0 + timedelta(minutes=5)
        assert service.unshelve_expired(s, T0 + timedelta(minutes=4)) == []
        assert service.unshelve_expired(s, T0 + timedelta(minutes=5)) == [alarm]
        assert alarm.state == "unacknowledged" and alarm.shelved_until is None
        service.shelve(s, SYSTEM, alarm.id, 5, "again", at=T0 + timedelta(minutes=6))
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(minutes=7))
        assert alarm.state == "shelved"  # cleared while shelved
        service.unshelve_expired(s, T0 + timedelta(minutes=12))
        assert alarm.state == "normal" and alarm.closed_at is not None


def test_operator_actions_refused_by_the_state_are_conflicts(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        alarm = gas(s)
        service.acknowledge(s, SYSTEM, alarm.id)
        with pytest.raises(Conflict):
            service.acknowledge(s, SYSTEM, alarm.id)
        with pytest.raises(Conflict):
            service.reset_latched(s, SYSTEM, alarm.id)
        with pytest.raises(Conflict):
            service.unshelve(s, SYSTEM, alarm.id)
        service.set_out_of_service(s, SYSTEM, alarm.id, True, "maintenance")
        assert alarm.state == "out_of_service"
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(minutes=1))
        service.set_out_of_service(s, SYSTEM, alarm.id, False)
        assert alarm.state == "normal"


def test_unacknowledged_alarms_escalate_once(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        critical = gas(s, priority="critical")  # 60 s by default
        low = gas(s, source="gas:B", priority="low")  # 30 min
        assert service.overdue_unacknowledged(s, T0 + timedelta(seconds=59)) == []
        assert service.overdue_unacknowledged(s, T0 + timedelta(seconds=61)) == [critical]
        assert service.overdue_unacknowledged(s, T0 + timedelta(seconds=62)) == []
        assert service.overdue_unacknowledged(s, T0 + timedelta(minutes=31)) == [low]
        service.clear_external(s, source="gas:A1", condition="HIGH", at=T0 + timedelta(minutes=32))
        gas(s, T0 + timedelta(minutes=33), priority="critical")  # a re-alarm starts the clock
        assert service.overdue_unacknowledged(s, T0 + timedelta(minutes=35)) == [critical]


def test_companies_see_their_own_alarms_and_only_the_control_centre_operates(
    ctx: Context, world: World
) -> None:
    with ctx.db.unit(SYSTEM) as s:
        mine = gas(s, company_id=world.companies["A"]).id
        complex_level = gas(s, source="cctv:gate").id
    with ctx.db.unit() as s:
        rows, total = service.list_alarms(s, operator(world, "admin_a"))
        assert [r.id for r in rows] == [mine] and total == 1
        assert service.list_alarms(s, operator(world, "admin_b")) == ([], 0)
        assert {r.id for r in service.list_alarms(s, operator(world))[0]} == {mine, complex_level}
        with pytest.raises(NotFound):
            service.get_alarm(s, operator(world, "admin_b"), mine)
        with pytest.raises(PermissionDenied):
            service.acknowledge(s, operator(world, "admin_a"), mine)
        acked = service.acknowledge(s, operator(world), mine, "on it")
        assert acked.acked_by_user_id == world.users["safety"]
        assert (
            s.scalar(select(AlarmJournal.by_user_id).where(AlarmJournal.event == "acknowledge"))
            == world.users["safety"]
        )


def test_external_alarms_check_kind_and_priority(ctx: Context) -> None:
    with ctx.db.unit(SYSTEM) as s:
        with pytest.raises(ValidationFailed):
            service.raise_external(
                s,
                source="x",
                condition="y",
                priority="urgent",
                message="",
                company_id=None,
                lat=None,
                lon=None,
                at=T0,
                kind="gas",
            )
        with pytest.raises(ValidationFailed):
            service.raise_external(
                s,
                source="x",
                condition="y",
                priority="high",
                message="",
                company_id=None,
                lat=None,
                lon=None,
                at=T0,
                kind="earthquake",
            )
