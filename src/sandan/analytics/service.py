"""OEE of a machine over a time window, from its state tag and production counters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from sandan.analytics.oee import compute, inputs_from_states, state_durations
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.telemetry.store import TelemetryStore

OUTPUT_TAGS = (
    "cycle_count",
    "board_count",
    "stroke_count",
    "cell_count",
    "wafer_count",
    "tested_count",
    "pick_count",
    "inspected_count",
)
DEFECT_TAGS = ("defect_count", "fail_count", "yarn_breaks")
MAX_POINTS = 2_000_000
STATE_HOLD_S = 900.0  # a state heard nothing of for 15 minutes is a gap, not running time


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
    while running) stands in for it, and the answer says so."""
    tags = registry.machine_tags(session, principal, machine_id)
    if "state" not in tags:
        raise ValidationFailed.one("machine_id", "the machine has no state tag")
    output = next((tags[n] for n in OUTPUT_TAGS if n in tags), None)
    defects = next((tags[n] for n in DEFECT_TAGS if n in tags), None)
    ts, states = _series(store, tags["state"], start, end)
    durations = state_durations(
        ts, np.nan_to_num(states).astype(np.int64), _us(start), _us(end), max_hold_s=STATE_HOLD_S
    )
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
