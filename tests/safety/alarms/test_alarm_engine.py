"""The vectorised evaluator: deadband and delays against chattering input, rate of change,
late readings, multi-tag conditions, and equality with a plain reading-by-reading reference
on random streams split into random batches."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sandan.safety.alarms.engine import (
    CONDITIONS,
    NEVER,
    Definitions,
    EngineState,
    compile_conditions,
    evaluate,
    truth,
)

S = 1_000_000  # µs per second


def one(h=np.nan, hh=np.nan, l=np.nan, ll=np.nan, roc=np.nan, db=0.0, on=0.0, off=0.0, tag=1):  # noqa: E741
    return Definitions(
        tag_id=np.array([tag], np.int64),
        limits=np.array([[hh, h, l, ll, roc]], np.float64),
        deadband=np.array([db]),
        on_delay_us=np.array([int(on * S)], np.int64),
        off_delay_us=np.array([int(off * S)], np.int64),
    )


def chatter(n: int = 600, seed: int = 7) -> np.ndarray:
    """A signal hovering around 50 with noise ±1.5: crosses a limit of 50 all the time."""
    rng = np.random.default_rng(seed)
    return 50 + rng.uniform(-1.5, 1.5, n)


def run(defs: Definitions, values: np.ndarray, step_s: float = 1.0):
    ts = (np.arange(len(values)) * step_s * S).astype(np.int64)
    return evaluate(defs, EngineState.fresh(len(defs)), np.ones(len(values), np.int64), ts, values)


def test_chattering_input_raises_many_without_deadband_and_delays() -> None:
    values = np.r_[chatter(), np.full(5, 40.0)]
    _, bare = run(one(h=50), values)
    assert bare.raised.sum() > 100  # every crossing is an alarm


def test_a_deadband_and_an_on_delay_make_it_one_alarm() -> None:
    values = np.r_[np.full(10, 40.0), chatter(), np.full(5, 40.0)]
    _, banded = run(one(h=49, db=3.0), values)
    assert banded.raised.tolist() == [True, False]  # one alarm, cleared at the end
    _, delayed = run(one(h=50, on=5.0, off=10.0), values)
    assert delayed.raised.sum() <= 1


def test_on_delay_waits_for_a_steady_condition() -> None:
    values = np.r_[np.full(3, 0.0), np.full(10, 100.0), np.full(10, 0.0)]
    _, moves = run(one(h=50, on=4.0, off=2.0), values)
    # above from t=3; raised at t=7 (4 s later); below from t=13, cleared at t=15
    assert (moves.ts // S).tolist() == [7, 15]
    assert moves.raised.tolist() == [True, False]


def test_low_limits_mirror_high_ones() -> None:
    _, moves = run(one(l=10, ll=5, db=1), np.array([20, 9, 4, 5.5, 6.5, 10.5, 11.5]))
    got = [
        (CONDITIONS[c], int(t // S), bool(r))
        for c, t, r in zip(moves.condition, moves.ts, moves.raised, strict=True)
    ]
    assert got == [("L", 1, True), ("LL", 2, True), ("LL", 4, False), ("L", 6, False)]


def test_rate_of_change_per_minute() -> None:
    values = np.array([0, 1, 2, 30, 31, 32, 33], float)  # +28 in 10 s = 168 / min
    _, moves = run(one(roc=60), values, step_s=10)
    assert moves.raised.tolist() == [True, False]
    assert math.isclose(moves.value[0], 168.0)


def test_state_carries_over_batches_and_late_readings_are_skipped() -> None:
    defs = one(h=50, on=3.0)
    ts = np.arange(6, dtype=np.int64) * S
    st1, m1 = evaluate(defs, EngineState.fresh(1), np.ones(3, np.int64), ts[:3], np.full(3, 60.0))
    assert len(m1) == 0 and st1.hyst[0, 1] and st1.since[0, 1] == 0
    late = np.array([0, 1], np.int64) * S  # already judged: must not restart the run
    st2, m2 = evaluate(
        defs, st1, np.ones(5, np.int64), np.r_[late, ts[3:]], np.r_[0.0, 0.0, np.full(3, 60.0)]
    )
    assert (m2.ts // S).tolist() == [3] and m2.raised.tolist() == [True]
    assert st2.last_ts[0] == 5 * S


def test_the_multi_tag_condition_gates_the_alarm() -> None:
    defs = one(h=50)
    values = np.full(5, 60.0)
    ts = np.arange(5, dtype=np.int64) * S
    tags = np.ones(5, np.int64)
    _, closed = evaluate(defs, EngineState.fresh(1), tags, ts, values, np.array([False]))
    _, open_ = evaluate(defs, EngineState.fresh(1), tags, ts, values, np.array([True]))
    assert len(closed) == 0 and open_.raised.tolist() == [True]


def test_conditions_over_latest_values() -> None:
    gas_and_fan_off = {
        "all": [{"tag_id": 7, "op": ">", "value": 10}, {"tag_id": 8, "op": "<", "value": 1}]
    }
    either = {
        "any": [{"tag_id": 7, "op": ">=", "value": 50}, {"tag_id": 9, "op": "==", "value": 1}]
    }
    cond = compile_conditions([gas_and_fan_off, None, either])
    ids, values = np.array([7, 8]), np.array([20.0, 0.0])
    assert truth(cond, ids, values, default=True).tolist() == [True, True, False]
    assert truth(cond, ids, values, default=False).tolist() == [True, False, False]
    fan_on = np.array([20.0, 5.0])
    assert truth(cond, ids, fan_on, default=True).tolist() == [False, True, False]
    assert truth(cond, np.zeros(0, np.int64), np.zeros(0), default=True).tolist() == [
        False,
        True,
        False,
    ]  # an unknown tag makes its comparison false


def reference(limits, deadband, on_us, off_us, ts, values):
    """Reading by reading, the textbook way: hysteresis, then on/off timers."""
    out = []
    for c, limit in enumerate(limits):
        if np.isnan(limit):
            continue
        high = c in (0, 1, 4)
        hyst, since, active = False, NEVER, False
        last_t, last_v = None, None
        for t, v in zip(ts, values, strict=True):
            sig = v
            if c == 4:
                sig = (
                    abs(v - last_v) / ((t - last_t) / 60e6)
                    if last_t is not None and t > last_t
                    else np.nan
                )
                last_t, last_v = t, v
            band = 0.0 if c == 4 else deadband
            if high:
                set_, reset = sig > limit, sig <= limit - band
            else:
                set_, reset = sig < limit, sig >= limit + band
            new = True if set_ else False if reset else hyst
            if new != hyst:
                hyst, since = new, t
            if hyst and not active and t - since >= on_us:
                active = True
                out.append((c, t, True))
            elif not hyst and active and t - since >= off_us:
                active = False
                out.append((c, t, False))
    return sorted(out, key=lambda x: (x[1], x[0]))


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(0, 100), min_size=1, max_size=120),
    gaps=st.lists(st.integers(1, 5), min_size=120, max_size=120),
    h=st.floats(20, 80),
    low=st.floats(0, 19),
    roc=st.one_of(st.just(np.nan), st.floats(10, 3000)),
    db=st.floats(0, 10),
    on=st.integers(0, 8),
    off=st.integers(0, 8),
    cuts=st.lists(st.integers(0, 120), max_size=5),
)
def test_batches_equal_the_reading_by_reading_reference(
    values, gaps, h, low, roc, db, on, off, cuts
) -> None:
    v = np.array(values)
    ts = np.cumsum(np.array(gaps[: len(v)], np.int64)) * S
    defs = one(h=h, hh=h + 10, l=low, roc=roc, db=db, on=on, off=off)
    state, got = EngineState.fresh(1), []
    bounds = sorted(min(c, len(v)) for c in cuts)
    for a, b in zip([0, *bounds], [*bounds, len(v)], strict=True):
        if b <= a:
            continue
        state, moves = evaluate(defs, state, np.ones(b - a, np.int64), ts[a:b], v[a:b])
        got += list(
            zip(moves.condition.tolist(), moves.ts.tolist(), moves.raised.tolist(), strict=True)
        )
    want = reference(defs.limits[0], db, on * S, off * S, ts.tolist(), v.tolist())
    assert sorted(got, key=lambda x: (x[1], x[0])) == want


def test_many_definitions_on_many_tags_at_once() -> None:
    n = 1000
    defs = Definitions(
        tag_id=np.arange(n, dtype=np.int64),
        limits=np.tile([np.nan, 50.0, np.nan, np.nan, np.nan], (n, 1)),
        deadband=np.zeros(n),
        on_delay_us=np.zeros(n, np.int64),
        off_delay_us=np.zeros(n, np.int64),
    )
    tags = np.repeat(np.arange(n, dtype=np.int64), 3)
    ts = np.tile(np.arange(3, dtype=np.int64) * S, n)
    values = np.where(tags % 2 == 0, 60.0, 40.0)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(tags))  # any arrival order
    state, moves = evaluate(defs, EngineState.fresh(n), tags[order], ts[order], values[order])
    assert sorted(moves.definition.tolist()) == list(range(0, n, 2))
    assert state.active[:, 1].sum() == n // 2
