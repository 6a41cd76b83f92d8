"""OEE after ISO 22400-2, checked against a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest

from sandan.analytics.oee import (
    CHANGEOVER,
    DOWN,
    IDLE,
    PLANNED_STOP,
    RUNNING,
    OeeInputs,
    compute,
    inputs_from_states,
    state_durations,
)


def test_the_hand_worked_shift() -> None:
    """An 8-hour shift (480 min) with 60 min of planned breaks, 47 min of breakdowns, an
    ideal cycle of 1.0 s, 19,271 parts of which 423 rejected. By hand:
    availability = 373 / 420 = 0.88810; performance = 19,271 s / 22,380 s = 0.86108;
    quality = 18,848 / 19,271 = 0.97805; OEE = 0.74794."""
    result = compute(
        OeeInputs(
            planned_busy_time=420 * 60,
            actual_production_time=373 * 60,
            planned_run_time_per_item=1.0,
            produced_quantity=19_271,
            good_quantity=18_848,
            down_time=47 * 60,
        )
    )
    assert result.availability == pytest.approx(0.88810, rel=1e-3)
    assert result.performance == pytest.approx(0.86108, rel=1e-3)
    assert result.quality == pytest.approx(0.97805, rel=1e-3)
    assert result.oee == pytest.approx(0.74794, rel=1e-3)
    assert result.losses["equipment_failure"] == 2820
    assert result.losses["reduced_speed"] == pytest.approx(22_380 - 19_271)
    assert result.losses["process_defects"] == pytest.approx(423)


def test_states_become_the_same_shift() -> None:
    """The shift again, as a state series: breaks, a breakdown, running time."""
    minute = 60_000_000
    changes = [
        (0, RUNNING),
        (120, PLANNED_STOP),
        (135, RUNNING),
        (200, DOWN),
        (247, RUNNING),
        (240 + 7, RUNNING),
        (300, PLANNED_STOP),
        (330, RUNNING),
        (400, PLANNED_STOP),
        (415, RUNNING),
    ]
    ts = np.array([m * minute for m, _ in changes])
    states = np.array([s for _, s in changes])
    durations = state_durations(ts, states, 0, 480 * minute)
    assert durations[PLANNED_STOP] == 60 * 60 and durations[DOWN] == 47 * 60
    result = compute(
        inputs_from_states(durations, planned_run_time_per_item=1.0, produced=19_271, good=18_848)
    )
    assert result.oee == pytest.approx(0.74794, rel=1e-3)


def test_idle_and_changeover_are_losses_not_running() -> None:
    minute = 60_000_000
    ts = np.array([0, 10 * minute, 20 * minute, 30 * minute])
    states = np.array([RUNNING, IDLE, CHANGEOVER, RUNNING])
    inputs = inputs_from_states(
        state_durations(ts, states, 0, 40 * minute),
        planned_run_time_per_item=2.0,
        produced=500,
        good=490,
    )
    assert inputs.planned_busy_time == 2400 and inputs.actual_production_time == 1200
    result = compute(inputs)
    assert result.availability == pytest.approx(0.5)
    assert result.losses["idling_and_minor_stops"] == 600
    assert result.losses["setup_and_adjustment"] == 600


def test_no_data_is_zero_not_an_error() -> None:
    result = compute(OeeInputs(0, 0, 1.0, 0, 0))
    assert result.oee == 0.0


def test_a_long_silence_is_a_gap_not_running_time() -> None:
    minute = 60_000_000
    ts = np.array([0, 60 * minute])  # running, then nothing heard for an hour, then running
    states = np.array([RUNNING, RUNNING])
    durations = state_durations(ts, states, 0, 70 * minute, max_hold_s=900)
    assert durations[RUNNING] == 15 * 60 + 10 * 60
