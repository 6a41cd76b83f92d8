"""Analytics of machines: OEE of one machine from its raw readings; OEE, losses and energy of
a company or a line grouped by machine, line, day or shift from the rollups; downtime events
and their reasons; the states of machines now; state rules (power thresholds) for machines
without a state tag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from sandan.analytics import downtime, elements, report
from sandan.analytics.elements import DEFECT_TAGS, OUTPUT_TAGS, STATE_HOLD_S
from sandan.analytics.oee import compute, inputs_from_states, state_durations
from sandan.analytics.rules import (
    banded_power_tags,
    delete_state_rule,
    list_state_rules,
    power_machines,
    put_state_rule,
    rules_for,
    state_rule,
)
from sandan.analytics.shifts import Grain, ShiftPlan, calendar, whole_hours
from sandan.analytics.states import PowerRule
from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.pagination import PageParams
from sandan.registry import service as registry
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import TelemetryStore

__all__ = [
    "DEFECT_TAGS",
    "OUTPUT_TAGS",
    "STATE_HOLD_S",
    "PowerRule",
    "delete_state_rule",
    "list_state_rules",
    "power_machines",
    "put_state_rule",
    "rules_for",
    "state_rule",
]

MAX_POINTS = 2_000_000
MAX_REPORT_WINDOW = timedelta(days=93)
MAX_DOWNTIME_WINDOW = {"company": timedelta(days=7), "machine": timedelta(days=31)}


def _us(value: datetime) -> int:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1_000_000)


def _series(
    store: TelemetryStore, tag_id: int, start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray]:
    table = store.raw([tag_id], start, end, MAX_POINTS)
    ts = table.column("ts").cast("int64").to_numpy()
    values = table.column("value").to_numpy(zero_copy_only=False)
    return ts, values


def _delta(values: np.ndarray) -> float:
    """Growth of a counter over the window (a reset counts from its new start)."""
    if len(values) < 2:
        return 0.0
    steps = np.diff(values)
    return float(np.where(steps >= 0, steps, values[1:]).sum())


def machine_oee(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    machine_id: int,
    start: datetime,
    end: datetime,
    ideal_cycle_s: float | None = None,
) -> dict[str, Any]:
    """OEE after ISO 22400 for one machine. Without a configured ideal cycle time, the
    fastest sustained rate seen in the window (the 95th percentile of per-minute output
    while running) stands in for it, and the answer says so. A machine without a state tag
    takes its states from its power readings through its state rule."""
    tags = registry.machine_tags(session, principal, machine_id)
    rule = None if "state" in tags else rules_for(session, principal, [machine_id]).get(machine_id)
    if "state" not in tags and (rule is None or "power" not in tags):
        raise ValidationFailed.one(
            "machine_id", "the machine has no state tag, nor a power tag with a state rule"
        )
    output = next((tags[n] for n in OUTPUT_TAGS if n in tags), None)
    defects = next((tags[n] for n in DEFECT_TAGS if n in tags), None)
    ts, values = _series(store, tags["state" if rule is None else "power"], start, end)
    states = np.nan_to_num(values).astype(np.int64) if rule is None else rule.states(values)
    durations = state_durations(ts, states, _us(start), _us(end), max_hold_s=STATE_HOLD_S)
    produced = good = 0.0
    estimated = ideal_cycle_s is None
    if output is not None:
        out_ts, out_values = _series(store, output, start, end)
        produced = _delta(out_values)
        if ideal_cycle_s is None and len(out_values) > 1:
            minutes = (out_ts - out_ts[0]) // 60_000_000
            per_minute = np.bincount(minutes, weights=np.append(0, np.diff(out_values)))
            busy = per_minute[per_minute > 0]
            ideal_cycle_s = 60.0 / float(np.percentile(busy, 95)) if len(busy) else None
    good = produced - (_delta(_series(store, defects, start, end)[1]) if defects else 0.0)
    inputs = inputs_from_states(
        durations,
        planned_run_time_per_item=ideal_cycle_s or 0.0,
        produced=produced,
        good=max(good, 0.0),
    )
    result = compute(inputs)
    return {
        "machine_id": machine_id,
        "start": start,
        "end": end,
        "availability": result.availability,
        "performance": result.performance,
        "quality": result.quality,
        "oee": result.oee,
        "losses": result.losses,
        "planned_busy_time": inputs.planned_busy_time,
        "actual_production_time": inputs.actual_production_time,
        "produced_quantity": produced,
        "good_quantity": inputs.good_quantity,
        "ideal_cycle_s": ideal_cycle_s,
        "ideal_cycle_estimated": estimated,
        "seconds_in_state": {str(k): v for k, v in durations.items()},
    }


def _window(
    start: datetime | None, end: datetime | None, longest: timedelta
) -> tuple[datetime, datetime]:
    """[start, end) as aware UTC; by default the 24 hours up to now."""
    end = as_utc(end) if end else utcnow()
    start = as_utc(start) if start else end - timedelta(hours=24)
    if start >= end:
        raise ValidationFailed.one("start", "must be before end")
    if end - start > longest:
        raise ValidationFailed.one("end", f"the window is at most {longest.days} days")
    return start, end


def oee_report(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    plan: ShiftPlan,
    *,
    company_id: int | None = None,
    line_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: report.GroupBy = "none",
    now: datetime | None = None,
) -> dict[str, Any]:
    """OEE, the six big losses and energy per good unit of a company's (or a line's)
    machines, in total and per group, over whole hours from the rollups."""
    if line_id is not None:
        machines = registry.machines_with_tags(
            session, principal, asset_id=line_id, level="line", field="line_id"
        )
    else:
        machines = registry.machines_with_tags(session, principal, company_id=company_id)
    low, high = whole_hours(*_window(start, end, MAX_REPORT_WINDOW))
    grains: dict[str, Grain] = {"shift": "shift", "day_shift": "shift", "day": "day"}
    cal = calendar(plan, low, high, grains.get(group_by, "window"))
    rules = rules_for(session, principal, [m.id for m in machines])
    found = elements.compute(session, principal, store, machines, cal, now or utcnow(), rules)
    return {
        "scope": "line" if line_id is not None else "company",
        "scope_id": line_id if line_id is not None else company_id,
        "start": low,
        "end": high,
        "group_by": group_by,
        "timezone": plan.zone.key,
        "shifts": [plan.label(i) for i in range(len(plan.starts))],
        "machines": len(machines),
        "total": report.summarize(found, "none")[0],
        "groups": report.summarize(found, group_by) if group_by != "none" else [],
    }


def downtime_events(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    min_idle: timedelta,
    page: PageParams,
    *,
    company_id: int | None = None,
    machine_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    unassigned: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A machine's or a company's downtime events in a window, detected from the state tags
    (or power through a state rule) and stored first (detect, then upsert), with the time per
    reason."""
    if machine_id is not None:
        machines = registry.machines_with_tags(
            session, principal, asset_id=machine_id, level="machine", field="machine_id"
        )
        longest = MAX_DOWNTIME_WINDOW["machine"]
    else:
        machines = registry.machines_with_tags(session, principal, company_id=company_id)
        longest = MAX_DOWNTIME_WINDOW["company"]
    low, high = _window(start, end, longest)
    rules = rules_for(session, principal, [m.id for m in machines])
    runs = downtime.detect(
        session, principal, store, machines, low, high, now or utcnow(), min_idle, rules
    )
    downtime.store_runs(session, runs, [m.id for m in machines])
    answer = downtime.listing(session, principal, machines, low, high, page, unassigned)
    return {"start": low, "end": high, **answer}


def give_downtime_reason(
    session: Session, principal: Principal, event_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Give a downtime event its reason and note (audited)."""
    event = downtime.give_reason(session, principal, event_id, changes)
    machines = registry.machines_with_tags(session, principal, asset_id=event.machine_id)
    return downtime.event_out(event, machines[0] if machines else None)


def downtime_reasons() -> list[dict[str, str]]:
    """The reasons an operator chooses from, with English and Korean labels."""
    return [{"code": c, "label": en, "label_ko": ko} for c, (en, ko) in downtime.REASONS.items()]


def machine_states(
    session: Session, principal: Principal, store: TelemetryStore
) -> dict[int, dict[int, int]]:
    """company_id -> {state: machines in it now}, over the machines the principal may read:
    the latest value of their state tags, and for machines without one the band of their
    latest power under their state rule."""
    counts = telemetry.machine_states(session, principal, store)
    banded = banded_power_tags(session, principal)
    for row in telemetry.latest(session, principal, store, list(banded)):
        if row["value"] is None:
            continue
        company_id, rule = banded[row["tag_id"]]
        per = counts.setdefault(company_id, {})
        state = rule.state(row["value"])
        per[state] = per.get(state, 0) + 1
    return counts
