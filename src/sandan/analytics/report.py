"""OEE, six big losses and energy per good unit of groups (machine, line, day, shift), from
the elements summed over the group: sums first, ratios after, never an average of ratios."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from sandan.analytics.elements import Elements
from sandan.analytics.oee import CHANGEOVER, DOWN, IDLE, PLANNED_STOP, RUNNING, ratios

GroupBy = Literal["none", "machine", "line", "day", "shift", "day_shift"]


def _groups(el: Elements, group_by: GroupBy) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """For each (machine, period) cell its group, and each group's identity, in page order."""
    cal, machines = el.calendar, el.machines
    m, p = len(machines), cal.periods
    machine = np.repeat(np.arange(m), p)
    period = np.tile(np.arange(p), m)
    blank: dict[str, Any] = {"machine_id": None, "line_id": None, "day": None, "shift": None}
    if group_by == "machine":
        order = sorted(range(m), key=lambda i: (machines[i].code, machines[i].id))
        rank = np.empty(m, np.int64)
        rank[order] = np.arange(m)
        meta = [
            {
                **blank,
                "key": str(machines[i].id),
                "label": machines[i].label,
                "machine_id": machines[i].id,
                "line_id": machines[i].line_id,
            }
            for i in order
        ]
        return rank[machine], meta
    if group_by == "line":
        lines = sorted({(x.line_label, x.line_id or 0) for x in machines})
        rank_of = {line_id: i for i, (_, line_id) in enumerate(lines)}
        of_machine = np.array([rank_of[x.line_id or 0] for x in machines], np.int64)
        meta = [
            {
                **blank,
                "key": str(line_id) if line_id else "none",
                "label": label or "(no line)",
                "line_id": line_id or None,
            }
            for label, line_id in lines
        ]
        return of_machine[machine] if m else machine, meta
    day_of = [d for d in cal.days if d is not None]  # by day or shift: every period's day
    shift_of = [s for s in cal.shifts if s is not None]  # by shift: every period's shift
    if group_by == "day":
        assert len(day_of) == p, "grouping by day needs a calendar of days or shifts"
        days = sorted(set(day_of))
        rank_of_day = {d: i for i, d in enumerate(days)}
        of_period = np.array([rank_of_day[d] for d in day_of], np.int64)
        meta = [{**blank, "key": d.isoformat(), "label": d.isoformat(), "day": d} for d in days]
        return of_period[period] if p else period, meta
    if group_by == "shift":
        assert len(shift_of) == p, "grouping by shift needs a calendar of shifts"
        shifts = range(len(cal.plan.starts))
        meta = [
            {**blank, "key": cal.plan.key(s), "label": cal.plan.label(s), "shift": cal.plan.key(s)}
            for s in shifts
        ]
        return np.array(shift_of, np.int64)[period] if p else period, meta
    if group_by == "day_shift":
        assert len(day_of) == len(shift_of) == p, "needs a calendar of shifts"
        meta = [
            {
                **blank,
                "key": f"{d.isoformat()} {cal.plan.key(s)}",
                "label": f"{d.isoformat()} {cal.plan.label(s)}",
                "day": d,
                "shift": cal.plan.key(s),
            }
            for d, s in zip(day_of, shift_of, strict=True)
        ]
        return period, meta
    return np.zeros(m * p, np.int64), [{**blank, "key": "all", "label": "all"}]


def summarize(el: Elements, group_by: GroupBy) -> list[dict[str, Any]]:
    """One page-friendly row per group: the ratios, the losses in seconds, the elements,
    produced and good units, kWh and kWh per good unit."""
    key, meta = _groups(el, group_by)
    m, p = len(el.machines), el.calendar.periods
    machine = np.repeat(np.arange(m), p)
    seconds = el.seconds.reshape(m * p, -1)
    produced, rejects, kwh = el.produced.ravel(), el.rejects.ravel(), el.kwh.ravel()
    cycle = el.ideal_cycle_s[machine]
    known = np.isfinite(cycle)
    columns = {
        "running": seconds[:, RUNNING],
        "idle": seconds[:, IDLE],
        "down": seconds[:, DOWN],
        "changeover": seconds[:, CHANGEOVER],
        "planned_stop": seconds[:, PLANNED_STOP],
        "measured": np.where(known, seconds[:, RUNNING], 0.0),
        "ideal": np.where(known, cycle * produced, 0.0),
        "defect_time": np.where(known, cycle * rejects, 0.0),
        "produced": produced,
        "rejects": rejects,
        "kwh": kwh,
        "estimated": el.estimated[machine].astype(np.float64),
        "power": el.has_power[machine].astype(np.float64),
    }
    n = len(meta)
    index_of = {x.id: i for i, x in enumerate(el.machines)}
    total = {name: np.bincount(key, weights=col, minlength=n) for name, col in columns.items()}
    pairs = np.unique(key * max(m, 1) + machine) if len(key) else key
    machines = np.bincount(pairs // max(m, 1), minlength=n)
    busy = total["running"] + total["idle"] + total["down"] + total["changeover"]
    good = total["produced"] - total["rejects"]
    share = ratios(
        busy, total["running"], total["measured"], total["ideal"], total["produced"], good
    )
    rows = []
    for g, identity in enumerate(meta):
        losses = {
            "equipment_failure": total["down"][g],
            "setup_and_adjustment": total["changeover"][g],
            "idling_and_minor_stops": total["idle"][g],
            "reduced_speed": max(0.0, total["measured"][g] - total["ideal"][g]),
            "process_defects": total["defect_time"][g],
            "reduced_yield": 0.0,  # start-up rejects are not told apart from other rejects yet
        }
        single = group_by == "machine"
        rows.append(
            {
                **identity,
                "machines": int(machines[g]),
                **{name: float(values[g]) for name, values in share.items()},
                "losses": {k: float(v) for k, v in losses.items()},
                "planned_busy_time": float(busy[g]),
                "actual_production_time": float(total["running"][g]),
                "ideal_time": float(total["ideal"][g]),
                "produced": float(total["produced"][g]),
                "good": float(good[g]),
                "rejects": float(total["rejects"][g]),
                "kwh": float(total["kwh"][g]) if total["power"][g] else None,
                "kwh_per_good_unit": (
                    float(total["kwh"][g] / good[g]) if total["power"][g] and good[g] > 0 else None
                ),
                "seconds_in_state": {
                    str(s): float(total[name][g])
                    for s, name in enumerate(
                        ("planned_stop", "running", "idle", "down", "changeover")
                    )
                },
                "ideal_cycle_s": (
                    _finite(el.ideal_cycle_s[index_of[identity["machine_id"]]]) if single else None
                ),
                "ideal_cycle_estimated": bool(total["estimated"][g] > 0),
            }
        )
    return rows


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
