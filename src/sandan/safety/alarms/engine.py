"""Alarm evaluation over a telemetry batch, pure and vectorised.

A definition has up to five checks (conditions): HH, H (above), L, LL (below) and ROC (the
absolute rate of change per minute above a limit). Every check of every definition is
evaluated against all of its tag's readings in the batch at once:

1. hysteresis: a high check sets when value > limit and resets when value ≤ limit − deadband
   (a low check mirrors it); between the two the previous decision holds, so a forward fill
   of the last decisive reading gives the state at every reading;
2. delays: a run of set readings raises the alarm at the first reading at least `on_delay`
   after the run began, a run of reset readings clears it after `off_delay`; these decisions
   do not depend on the alarm state, so a second forward fill gives the alarm at every
   reading;
3. the multi-tag condition (`when`) gates the whole batch: while it is false every check
   resets.

Each check carries its state across batches (hysteresis, since when, alarm active) plus the
definition's last reading (for the rate and to skip late readings), so evaluating batch after
batch equals evaluating the concatenated stream. No Python object per reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CONDITIONS = ("HH", "H", "L", "LL", "ROC")
HIGH = np.array([True, True, False, False, True])
NEVER = -(2**62)  # "since" of a state that has held forever
US_PER_MIN = 60_000_000
OPS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass
class Definitions:
    """Aligned columns of D definitions. `limits` is (D, 5) in CONDITIONS order, NaN = off."""

    tag_id: np.ndarray  # int64
    limits: np.ndarray  # float64 (D, 5)
    deadband: np.ndarray  # float64
    on_delay_us: np.ndarray  # int64
    off_delay_us: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.tag_id)


@dataclass
class EngineState:
    """What the evaluator remembers per definition and check."""

    hyst: np.ndarray  # bool (D, 5)
    since: np.ndarray  # int64 µs (D, 5)
    active: np.ndarray  # bool (D, 5)
    last_ts: np.ndarray  # int64 µs (D,), NEVER before the first reading
    last_value: np.ndarray  # float64 (D,), NaN before the first reading

    @classmethod
    def fresh(cls, n: int) -> EngineState:
        return cls(
            hyst=np.zeros((n, 5), bool),
            since=np.full((n, 5), NEVER, np.int64),
            active=np.zeros((n, 5), bool),
            last_ts=np.full(n, NEVER, np.int64),
            last_value=np.full(n, np.nan),
        )

    def copy(self) -> EngineState:
        return EngineState(
            self.hyst.copy(),
            self.since.copy(),
            self.active.copy(),
            self.last_ts.copy(),
            self.last_value.copy(),
        )


@dataclass
class Transitions:
    """Alarm changes found in a batch, in time order: definition index, condition index,
    time (µs), raised (True) or cleared, and the reading's value (the rate for ROC)."""

    definition: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    condition: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    raised: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.ts)


def _ffill_index(valid: np.ndarray) -> np.ndarray:
    """For each position the index of the latest valid position at or before it."""
    idx = np.where(valid, np.arange(len(valid)), 0)
    return np.maximum.accumulate(idx) if len(idx) else idx


def evaluate(
    defs: Definitions,
    state: EngineState,
    tag_id: np.ndarray,
    ts: np.ndarray,
    value: np.ndarray,
    gate: np.ndarray | None = None,
) -> tuple[EngineState, Transitions]:
    """Evaluate readings (any order; finite values only) against every definition; returns the
    new state and the transitions. `gate[d]` False holds definition d's condition false."""
    new = state.copy()
    n_defs = len(defs)
    if n_defs == 0 or len(ts) == 0:
        return new, Transitions()
    order = np.lexsort((ts, tag_id))
    tags, times, values = tag_id[order].astype(np.int64), ts[order].astype(np.int64), value[order]
    first = np.searchsorted(tags, defs.tag_id, "left")
    end = np.searchsorted(tags, defs.tag_id, "right")
    start = _skip_late(tags, times, first, end, defs.tag_id, state.last_ts)
    count = end - start
    checks_d, checks_c = np.nonzero(~np.isnan(defs.limits) & (count > 0)[:, None])
    if len(checks_d) == 0:
        return new, Transitions()
    k_start, k_n = start[checks_d], count[checks_d]
    # One head row per check (the state carried in), then its readings.
    sizes = k_n + 1
    heads = np.r_[0, np.cumsum(sizes)[:-1]]
    rows = int(sizes.sum())
    group = np.repeat(np.arange(len(checks_d)), sizes)
    pos = np.arange(rows) - heads[group]  # 0 = head
    is_head = pos == 0
    reading = np.where(is_head, 0, k_start[group] + pos - 1)
    row_ts = np.where(is_head, state.since[checks_d, checks_c][group], times[reading])
    d_row, c_row = checks_d[group], checks_c[group]

    signal = values[reading].astype(np.float64)
    roc = c_row == 4
    if roc.any():
        first_of_slice = reading == start[d_row]
        prev_ts = np.where(first_of_slice, state.last_ts[d_row], times[np.maximum(reading - 1, 0)])
        prev_v = np.where(
            first_of_slice, state.last_value[d_row], values[np.maximum(reading - 1, 0)]
        )
        dt_min = (times[reading] - prev_ts) / US_PER_MIN
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(
                (prev_ts > NEVER) & (dt_min > 0), np.abs(signal - prev_v) / dt_min, np.nan
            )
        signal = np.where(roc, rate, signal)

    limit = defs.limits[d_row, c_row]
    band = np.where(roc, 0.0, defs.deadband[d_row])
    high = HIGH[c_row]
    with np.errstate(invalid="ignore"):
        set_ = np.where(high, signal > limit, signal < limit)
        reset = np.where(high, signal <= limit - band, signal >= limit + band)
    if gate is not None:
        closed = ~gate[d_row]
        set_, reset = set_ & ~closed, reset | closed

    # 1. hysteresis
    head_h = state.hyst[checks_d, checks_c][group]
    decisive = is_head | set_ | reset
    hyst = np.where(is_head, head_h, set_)[_ffill_index(decisive)]
    # 2. delays: elapsed time in the current run of equal hysteresis
    changed = is_head | np.r_[False, hyst[1:] != hyst[:-1]]
    run_start = row_ts[_ffill_index(changed)]
    elapsed = row_ts - run_start
    on = hyst & (elapsed >= defs.on_delay_us[d_row])
    off = ~hyst & (elapsed >= defs.off_delay_us[d_row])
    head_a = state.active[checks_d, checks_c][group]
    active = np.where(is_head, head_a, on)[_ffill_index(is_head | on | off)]

    # the carried-out state: each group's last row
    last = heads + k_n
    new.hyst[checks_d, checks_c] = hyst[last]
    new.since[checks_d, checks_c] = run_start[last]
    new.active[checks_d, checks_c] = active[last]
    seen = count > 0
    new.last_ts[seen] = times[end[seen] - 1]
    new.last_value[seen] = values[end[seen] - 1]

    flips = np.flatnonzero(~is_head & (active != np.r_[False, active[:-1]]))
    flips = flips[np.argsort(row_ts[flips], kind="stable")]
    return new, Transitions(
        definition=d_row[flips],
        condition=c_row[flips],
        ts=row_ts[flips],
        raised=active[flips],
        value=signal[flips],
    )


def _skip_late(
    tags: np.ndarray,
    times: np.ndarray,
    first: np.ndarray,
    end: np.ndarray,
    def_tags: np.ndarray,
    last_ts: np.ndarray,
) -> np.ndarray:
    """Per definition, the first reading of its tag newer than its last evaluated one (late
    and repeated readings were judged already, or are too old to judge now)."""
    if len(times) == 0:
        return first
    lo = int(times.min())
    span = int(times.max()) - lo + 2
    unique = np.unique(tags)
    key = np.searchsorted(unique, tags) * span + (times - lo)
    bound = np.clip(last_ts, lo - 1, lo + span - 2) - lo
    found = np.searchsorted(key, np.searchsorted(unique, def_tags) * span + bound, "right")
    start: np.ndarray = np.clip(found, first, end)
    return start


@dataclass
class Conditions:
    """Compiled `{"all"|"any": [{"tag_id", "op", "value"}, ...]}` expressions of D definitions
    (None = no expression), as flat comparison columns."""

    owner: np.ndarray  # definition index of each comparison
    tag_id: np.ndarray
    op: np.ndarray  # index into OPS
    value: np.ndarray
    any_: np.ndarray  # per definition: any (True) or all
    present: np.ndarray  # per definition: has an expression

    @property
    def tag_ids(self) -> list[int]:
        return sorted(set(self.tag_id.tolist()))


def compile_conditions(exprs: Sequence[dict[str, Any] | None]) -> Conditions:
    """Flatten expressions once per batch (per definition, never per reading)."""
    owner: list[int] = []
    tag: list[int] = []
    op: list[int] = []
    val: list[float] = []
    any_ = np.zeros(len(exprs), bool)
    present = np.zeros(len(exprs), bool)
    for i, expr in enumerate(exprs):
        if not expr:
            continue
        present[i] = True
        any_[i] = "any" in expr
        for comp in expr.get("any") or expr.get("all") or []:
            owner.append(i)
            tag.append(int(comp["tag_id"]))
            op.append(OPS.index(comp["op"]))
            val.append(float(comp["value"]))
    return Conditions(
        np.array(owner, np.int64),
        np.array(tag, np.int64),
        np.array(op, np.int64),
        np.array(val, np.float64),
        any_,
        present,
    )


def truth(
    cond: Conditions, latest_ids: np.ndarray, latest_values: np.ndarray, default: bool
) -> np.ndarray:
    """Each definition's expression over the latest values (sorted `latest_ids`); a tag
    without a value makes its comparison false; no expression gives `default`."""
    n = len(cond.present)
    out = np.full(n, default)
    if not cond.present.any():
        return out
    at = np.searchsorted(latest_ids, cond.tag_id)
    known = at < len(latest_ids)
    known[known] = latest_ids[at[known]] == cond.tag_id[known]
    v = np.full(len(cond.tag_id), np.nan)
    v[known] = latest_values[at[known]]
    t = cond.value
    with np.errstate(invalid="ignore"):
        results = np.select(
            [cond.op == i for i in range(len(OPS))],
            [v < t, v <= t, v > t, v >= t, v == t, v != t],
        ).astype(bool)
    results &= known & ~np.isnan(v)
    true_count = np.bincount(cond.owner, results, minlength=n)
    total = np.bincount(cond.owner, minlength=n)
    value = np.where(cond.any_, true_count > 0, true_count == total)
    result: np.ndarray = np.where(cond.present, value, out)
    return result
