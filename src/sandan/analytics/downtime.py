"""Downtime events: stretches of idle (beyond a minimum), down and changeover in a machine's
state, found in the 1-minute rollups when someone lists them, kept so that an operator can
give each a reason.

Detection runs on every list (detect, then upsert): the minutes of the window and of the
12 hours before it are read in one aggregate for all machines in scope (their state tags, or
the power of machines without one through their state rule), runs of one state are
found in numpy (a minute counts in the state of its last reading; a silence holds the state
for up to 14 minutes, a longer one ends the run), and each run is merged with the stored
event it overlaps (same machine and state) or stored as new. A run already under way at the
start of what was read keeps the earliest start ever seen. The detector's writes are derived
data and bypass the audit log; a reason given by a person is an audited ORM update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sandan.analytics.elements import HOLD_MINUTES, column
from sandan.analytics.models import DowntimeEvent
from sandan.analytics.oee import CHANGEOVER, DOWN, IDLE
from sandan.analytics.states import PowerRule, power_rules, state_source, state_sql
from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import NotFound, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.pagination import PageParams, paginate
from sandan.core.tenancy import ensure_writable, readable
from sandan.registry.service import MachineTags
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import TelemetryStore

LOOKBACK = timedelta(hours=12)
STATE_NAMES = {IDLE: "idle", DOWN: "down", CHANGEOVER: "changeover"}
# code -> (English, Korean): the vocabulary operators choose from; `other` needs a note.
REASONS: dict[str, tuple[str, str]] = {
    "breakdown_mechanical": ("Breakdown, mechanical", "설비 고장(기계)"),
    "breakdown_electrical": ("Breakdown, electrical", "설비 고장(전기)"),
    "material_shortage": ("Material shortage", "자재 부족"),
    "no_operator": ("No operator", "작업자 부재"),
    "changeover": ("Changeover", "기종 변경"),
    "quality_check": ("Quality check", "품질 확인"),
    "planned_maintenance": ("Planned maintenance", "계획 보전"),
    "other": ("Other (see note)", "기타(메모)"),
}


@dataclass(frozen=True)
class Run:
    """A run of one downtime state found in the minutes."""

    machine_id: int
    company_id: int
    state: int
    start: datetime
    end: datetime
    open_start: bool  # already under way when the minutes read begin
    ongoing: bool  # still under way now


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def detect(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    machines: list[MachineTags],
    start: datetime,
    end: datetime,
    now: datetime,
    min_idle: timedelta,
    rules: Mapping[int, PowerRule] | None = None,
) -> list[Run]:
    """The downtime runs of `machines` that overlap [start, end), from their state tags or,
    for machines without one, their power through `rules` (machine id -> thresholds)."""
    rules = rules or {}
    found = {m.id: state_source(m, rules) for m in machines}
    source = {machine: tag for machine, tag in found.items() if tag is not None}
    with_state = [m for m in machines if m.id in source]
    if not with_state:
        return []
    state_of, rule_join = state_sql(power_rules(with_state, rules))
    minute = int(now.timestamp()) // 60 * 60
    low = int((start - LOOKBACK).timestamp()) // 60 * 60
    high = int(end.timestamp())
    limit = min(high, minute)  # states are held up to here, not into the future
    table = telemetry.aggregate_rollups(
        session,
        principal,
        store,
        [source[m.id] for m in with_state],
        _utc(low),
        _utc(min(high, minute + 60)),
        "1m",
        f"SELECT tag_id, t, {state_of} AS s FROM rollups{rule_join}",
    )
    if table.num_rows == 0:
        return []
    tag = column(table, "tag_id").astype(np.int64)
    t = column(table, "t").astype(np.int64)
    state = column(table, "s").astype(np.int64)
    order = np.lexsort((t, tag))
    tag, t, state = tag[order], t[order], state[order]
    n = len(t)
    first = np.ones(n, bool)
    first[1:] = tag[1:] != tag[:-1]
    last = np.ones(n, bool)
    last[:-1] = first[1:]
    following = np.where(last, limit, np.roll(t, -1))
    held = np.clip(following - t - 60, 0, 60 * HOLD_MINUTES)
    until = t + 60 + held
    breaks = first.copy()
    breaks[1:] |= (state[1:] != state[:-1]) | (until[:-1] < t[1:])
    begins = np.flatnonzero(breaks)
    ends = np.append(begins[1:] - 1, n - 1)
    run_start, run_end, run_state = t[begins], until[ends], state[begins]
    long_enough = np.where(run_state == IDLE, run_end - run_start >= min_idle.total_seconds(), True)
    keep = (
        np.isin(run_state, list(STATE_NAMES))
        & long_enough
        & (run_end > int(start.timestamp()))
        & (run_start < high)
    )
    by_tag = {source[m.id]: m for m in with_state}
    open_start = first[begins] & (t[begins] < low + 60)
    ongoing = last[ends] & (until[ends] >= limit) & (limit == minute)
    return [
        Run(
            machine_id=by_tag[int(tag[b])].id,
            company_id=by_tag[int(tag[b])].company_id,
            state=int(run_state[i]),
            start=_utc(run_start[i]),
            end=_utc(run_end[i]),
            open_start=bool(open_start[i]),
            ongoing=bool(ongoing[i]),
        )
        for i, b in enumerate(begins)
        if keep[i]
    ]


def store_runs(session: Session, runs: list[Run], machine_ids: list[int]) -> None:
    """Merge runs into the stored events: extend the one each overlaps (of the same machine
    and state), drop unannotated duplicates a merge makes, insert the rest."""
    if not runs:
        return
    low = min(r.start for r in runs)
    high = max(r.end for r in runs)
    stored: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            DowntimeEvent.id,
            DowntimeEvent.machine_id,
            DowntimeEvent.state,
            DowntimeEvent.started_at,
            DowntimeEvent.ended_at,
            DowntimeEvent.ongoing,
            DowntimeEvent.reason,
        ).where(
            DowntimeEvent.machine_id.in_(machine_ids),
            DowntimeEvent.started_at <= high,
            DowntimeEvent.ended_at >= low,
        )
    ):
        stored[row.machine_id].append(row)
    new: list[dict[str, Any]] = []
    for run in runs:
        overlapping = [
            e
            for e in stored[run.machine_id]
            if e.state == run.state
            and as_utc(e.started_at) <= run.end
            and as_utc(e.ended_at) >= run.start
        ]
        if not overlapping:
            new.append(
                {
                    "company_id": run.company_id,
                    "machine_id": run.machine_id,
                    "state": run.state,
                    "started_at": run.start,
                    "ended_at": run.end,
                    "ongoing": run.ongoing,
                    "note": "",
                    "reason_by": "",
                    "detected_at": utcnow(),
                }
            )
            continue
        keep = next((e for e in overlapping if e.reason), overlapping[0])
        started = min([run.start, *(as_utc(e.started_at) for e in overlapping)])
        ended = max([run.end, *(as_utc(e.ended_at) for e in overlapping)])
        drop = [e.id for e in overlapping if e is not keep and not e.reason]
        if drop:
            session.execute(delete(DowntimeEvent).where(DowntimeEvent.id.in_(drop)))
        changed = (started, ended, run.ongoing) != (
            as_utc(keep.started_at),
            as_utc(keep.ended_at),
            keep.ongoing,
        )
        if changed:
            session.execute(
                update(DowntimeEvent)
                .where(DowntimeEvent.id == keep.id)
                .values(started_at=started, ended_at=ended, ongoing=run.ongoing)
                .execution_options(synchronize_session=False)
            )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for chunk in range(0, len(new), 1000):
        session.execute(
            insert(DowntimeEvent)
            .values(new[chunk : chunk + 1000])
            .on_conflict_do_nothing(index_elements=["machine_id", "started_at"])
        )
    session.flush()


def events_readable(principal: Principal) -> Select[DowntimeEvent]:
    """Downtime events of the companies whose assets the principal may read."""
    return readable(select(DowntimeEvent), principal, DowntimeEvent.company_id, Resource.assets)


def listing(
    session: Session,
    principal: Principal,
    machines: list[MachineTags],
    start: datetime,
    end: datetime,
    page: PageParams,
    unassigned: bool,
) -> dict[str, Any]:
    """The stored events of `machines` overlapping [start, end), newest first, one page, with
    the time per reason over all of them (a Pareto of the window)."""
    by_id = {m.id: m for m in machines}
    stmt = events_readable(principal).where(
        DowntimeEvent.machine_id.in_(list(by_id)),
        DowntimeEvent.started_at < end,
        DowntimeEvent.ended_at > start,
    )
    if unassigned:
        stmt = stmt.where(DowntimeEvent.reason.is_(None))
    rows, total = paginate(
        session, stmt.order_by(DowntimeEvent.started_at.desc(), DowntimeEvent.id.desc()), page
    )
    summary: dict[tuple[str | None, int], list[float]] = defaultdict(lambda: [0, 0.0])
    times = select(
        DowntimeEvent.reason, DowntimeEvent.state, DowntimeEvent.started_at, DowntimeEvent.ended_at
    )
    for reason, state, began, ended in session.execute(
        times.where(DowntimeEvent.id.in_(stmt.with_only_columns(DowntimeEvent.id)))
    ):
        cell = summary[(reason, state)]
        cell[0] += 1
        cell[1] += (as_utc(ended) - as_utc(began)).total_seconds()
    return {
        "items": [event_out(e, by_id.get(e.machine_id)) for e in rows],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "by_reason": [
            {
                "reason": reason,
                "reason_label": REASONS[reason][0] if reason in REASONS else None,
                "state": state,
                "state_name": STATE_NAMES.get(state, str(state)),
                "events": int(count),
                "seconds": seconds,
            }
            for (reason, state), (count, seconds) in sorted(
                summary.items(), key=lambda item: -item[1][1]
            )
        ],
    }


def event_out(event: DowntimeEvent, machine: MachineTags | None) -> dict[str, Any]:
    """A page-friendly event."""
    started, ended = as_utc(event.started_at), as_utc(event.ended_at)
    return {
        "id": event.id,
        "company_id": event.company_id,
        "machine_id": event.machine_id,
        "machine_label": machine.label if machine else "",
        "line_id": machine.line_id if machine else None,
        "state": event.state,
        "state_name": STATE_NAMES.get(event.state, str(event.state)),
        "started_at": started,
        "ended_at": ended,
        "duration_s": (ended - started).total_seconds(),
        "ongoing": event.ongoing,
        "reason": event.reason,
        "reason_label": REASONS[event.reason][0] if event.reason in REASONS else None,
        "note": event.note,
        "reason_by": event.reason_by,
        "reason_at": as_utc(event.reason_at) if event.reason_at else None,
    }


def give_reason(
    session: Session,
    principal: Principal,
    event_id: int,
    changes: dict[str, Any],
) -> DowntimeEvent:
    """Set an event's reason and note: members who write the owning company, and operators.
    A hidden event answers 404, a read-only caller 403; `other` needs a note."""
    event = session.scalar(events_readable(principal).where(DowntimeEvent.id == event_id))
    if event is None:
        raise NotFound(f"downtime event {event_id} not found")
    ensure_writable(principal, event.company_id, "downtime reasons")
    reason = changes.get("reason", event.reason)
    if reason is not None and reason not in REASONS:
        raise ValidationFailed.one("reason", f"one of {', '.join(REASONS)}")
    note: str = changes.get("note") or (event.note if "note" not in changes else "")
    if reason == "other" and not note.strip():
        raise ValidationFailed.one("note", "say what the other reason is")
    event.reason, event.note = reason, note
    event.reason_by, event.reason_at = principal.actor, utcnow()
    session.flush()
    return event
