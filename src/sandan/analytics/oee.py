"""Overall equipment effectiveness after ISO 22400-2, and the six big losses.

availability = APT / PBT (actual production time over planned busy time)
performance  = PRI × PQ / APT (planned run time per item times produced quantity)
quality      = GQ / PQ (good over produced quantity)
OEE          = availability × performance × quality

Machine states come from the `state` tag (simulator/machines.py codes): 0 planned stop,
1 running, 2 idle, 3 down, 4 changeover. A reading's state lasts until the next reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLANNED_STOP, RUNNING, IDLE, DOWN, CHANGEOVER = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class OeeInputs:
    """The ISO 22400 elements, times in seconds."""

    planned_busy_time: float  # PBT
    actual_production_time: float  # APT
    planned_run_time_per_item: float  # PRI
    produced_quantity: float  # PQ
    good_quantity: float  # GQ
    down_time: float = 0.0  # equipment failure
    setup_time: float = 0.0  # changeover
    idle_time: float = 0.0  # idling and minor stops


@dataclass(frozen=True)
class Oee:
    """The three ratios, their product and the six big losses in seconds of production."""

    availability: float
    performance: float
    quality: float
    oee: float
    losses: dict[str, float]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def compute(x: OeeInputs) -> Oee:
    """OEE and its losses from the ISO 22400 elements."""
    availability = _ratio(x.actual_production_time, x.planned_busy_time)
    effective = x.planned_run_time_per_item * x.produced_quantity
    performance = _ratio(effective, x.actual_production_time)
    quality = _ratio(x.good_quantity, x.produced_quantity)
    losses = {
        "equipment_failure": x.down_time,
        "setup_and_adjustment": x.setup_time,
        "idling_and_minor_stops": x.idle_time,
        "reduced_speed": max(0.0, x.actual_production_time - effective),
        "process_defects": x.planned_run_time_per_item
        * max(0.0, x.produced_quantity - x.good_quantity),
        "reduced_yield": 0.0,  # start-up rejects are not told apart from other rejects yet
    }
    return Oee(availability, performance, quality, availability * performance * quality, losses)


def ratios(
    planned_busy_time: np.ndarray,
    actual_production_time: np.ndarray,
    measured_production_time: np.ndarray,
    ideal_time: np.ndarray,
    produced: np.ndarray,
    good: np.ndarray,
) -> dict[str, np.ndarray]:
    """Availability, performance, quality and OEE of groups from their summed elements (never
    from averaged ratios). Performance counts only the running time of machines whose output
    is counted (`measured_production_time`): a machine without a counter has no speed."""

    def share(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.divide(top, bottom, out=np.zeros(np.shape(top)), where=bottom > 0)
        return result

    availability = share(actual_production_time, planned_busy_time)
    performance = share(ideal_time, measured_production_time)
    quality = share(good, produced)
    return {
        "availability": availability,
        "performance": performance,
        "quality": quality,
        "oee": availability * performance * quality,
    }


def state_durations(
    ts_us: np.ndarray,
    states: np.ndarray,
    start_us: int,
    end_us: int,
    max_hold_s: float | None = None,
) -> dict[int, float]:
    """Seconds spent in each state within [start, end): each reading holds until the next,
    and with `max_hold_s` for at most that long (a longer silence is then a gap in the data,
    not running time). Time before the first reading is not counted.
    """
    if len(ts_us) == 0:
        return {}
    order = np.argsort(ts_us, kind="stable")
    ts = np.clip(ts_us[order].astype(np.int64), start_us, end_us)
    st = states[order].astype(np.int64)
    until = np.append(ts[1:], end_us)
    if max_hold_s is not None:
        until = np.minimum(until, ts + int(max_hold_s * 1_000_000))
    seconds = (until - ts) / 1_000_000
    return {int(s): float(seconds[st == s].sum()) for s in np.unique(st)}


def inputs_from_states(
    durations: dict[int, float],
    *,
    planned_run_time_per_item: float,
    produced: float,
    good: float,
) -> OeeInputs:
    """ISO 22400 elements from time in states and counter deltas."""
    busy = sum(t for s, t in durations.items() if s != PLANNED_STOP)
    return OeeInputs(
        planned_busy_time=busy,
        actual_production_time=durations.get(RUNNING, 0.0),
        planned_run_time_per_item=planned_run_time_per_item,
        produced_quantity=produced,
        good_quantity=good,
        down_time=durations.get(DOWN, 0.0),
        setup_time=durations.get(CHANGEOVER, 0.0),
        idle_time=durations.get(IDLE, 0.0),
    )
