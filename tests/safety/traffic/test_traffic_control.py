"""Max-pressure's rules, without SUMO: pressure is queue in − queue out over a phase's green
links, a green is held for its minimum, and every change goes through yellow (and all-red)
before another green; the controller stays when its phase is already the best."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sandan.safety.traffic.control import (
    Junction,
    MaxPressure,
    Phase,
    Switch,
    Timing,
    green_intervals,
)

# One junction, two approaches: link 0 west→east (lane w_in → e_out), link 1 south→north
# (s_in → n_out), link 2 a west right turn sharing w_in (→ s_out). Phase 0 serves west,
# phase 2 serves south; phases 1 and 3 are the static programme's yellows.
CROSS = Junction(
    id="J",
    program_id="0",
    phases=(
        Phase(0, 42, "GrG"),
        Phase(1, 3, "yry"),
        Phase(2, 42, "rGr"),
        Phase(3, 3, "ryr"),
    ),
    link_in=("w_in", "s_in", "w_in"),
    link_out=("e_out", "n_out", "s_out"),
)
LANES = ["w_in", "s_in", "e_out", "n_out", "s_out"]


def queues(**by_lane: int) -> np.ndarray:
    return np.array([by_lane.get(lane, 0) for lane in LANES])


def drive(ctl: MaxPressure, seconds: int, q: np.ndarray) -> list[Switch]:
    log = ctl.start(0.0)
    for t in range(1, seconds + 1):
        log += ctl.step(float(t), q)
    return log


def test_pressure_is_queue_in_minus_queue_out_over_green_links() -> None:
    ctl = MaxPressure([CROSS], LANES)
    p = ctl.pressures(queues(w_in=8, s_in=5, e_out=3, n_out=1, s_out=2))
    # phase 0: (8 − 3) + (8 − 2); phase 2: 5 − 1
    assert p.tolist() == [11.0, 4.0]


def test_switches_to_the_loaded_approach_only_after_min_green() -> None:
    timing = Timing(min_green_s=12, yellow_s=3, all_red_s=2, decision_s=1)
    log = drive(MaxPressure([CROSS], LANES, timing), 40, queues(s_in=9))
    assert [(s.time, s.mode, s.phase_index, s.state) for s in log] == [
        (0.0, "green", 0, "GrG"),
        (12.0, "yellow", 2, "yry"),  # the west links lose green: yellow, south still red
        (15.0, "red", 2, "rrr"),
        (17.0, "green", 2, "rGr"),
    ]


def test_stays_while_its_own_phase_carries_the_most_pressure() -> None:
    log = drive(MaxPressure([CROSS], LANES), 120, queues(w_in=6, s_in=2))
    assert [s.mode for s in log] == ["green"]


def test_a_link_green_in_both_phases_keeps_green_through_the_change() -> None:
    both = Junction(
        "K",
        "0",
        (Phase(0, 30, "GGr"), Phase(1, 30, "rGG")),
        ("a", "b", "c"),
        ("x", "y", "z"),
    )
    timing = Timing(min_green_s=5, yellow_s=3, all_red_s=1, decision_s=1)
    ctl = MaxPressure([both], ["a", "b", "c", "x", "y", "z"], timing)
    log = drive(ctl, 20, np.array([0, 0, 7, 0, 0, 0]))
    assert [s.state for s in log] == ["GGr", "yGr", "rGr", "rGG"]


def test_decisions_come_only_every_decision_interval() -> None:
    timing = Timing(min_green_s=5, yellow_s=3, all_red_s=0, decision_s=10)
    log = drive(MaxPressure([CROSS], LANES, timing), 30, queues(s_in=4))
    first_change = next(s for s in log if s.mode == "yellow")
    assert first_change.time == 10.0  # min green served at 5 s, but the next decision is at 10 s
    assert [s.mode for s in log] == ["green", "yellow", "green"]  # no all-red when it is 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 10)),
        min_size=20,
        max_size=120,
    ),
    st.sampled_from([5.0, 10.0, 15.0]),
)
def test_min_green_and_clearance_hold_for_any_queues(
    series: list[tuple[int, int, int]], min_green: float
) -> None:
    """Whatever the queues do, each green lasts ≥ min green, and each new green follows a
    yellow of the full yellow time and the all-red."""
    timing = Timing(min_green_s=min_green, yellow_s=3, all_red_s=1, decision_s=2)
    ctl = MaxPressure([CROSS], LANES, timing)
    log = ctl.start(0.0)
    t = 0
    for w, s, out in series:
        for _ in range(5):
            t += 1
            log += ctl.step(float(t), queues(w_in=w, s_in=s, e_out=out))
    assert all(length >= min_green for _j, _start, length in green_intervals(log))
    for before, after in itertools.pairwise(log):
        if after.mode == "green":
            assert before.mode == "red" and after.time - before.time >= 1
        if after.mode == "red":
            assert before.mode == "yellow" and after.time - before.time >= 3
        if after.mode == "yellow":
            assert before.mode == "green"
