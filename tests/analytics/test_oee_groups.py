"""OEE of groups, worked by hand: two machines, two shifts, known elements, exact figures.

Production day 2026-03-02 in Gumi (Asia/Seoul, UTC+9): shift 06-14 is 21:00-05:00 UTC, shift
14-22 is 05:00-13:00 UTC. One reading a minute of state, output, rejects and power.

M1 (10 units/min at full speed, so an ideal cycle of 6 s):
  06-14: running 240 min at full speed, down 60, running 120 at half speed, idle 60;
         3,000 units, 30 rejects.
  14-22: running 420 at full speed, changeover 60; 4,200 units, 42 rejects.
M2 (4 units/min, 15 s):
  06-14: planned stop 240, running 240; 960 units, no rejects.
  14-22: running 120, down 360; 480 units, 48 rejects.

Shift 06-14 by hand: PBT = 480 + 240 min = 43,200 s; APT = 360 + 240 min = 36,000 s; ideal
time = 6 × 3,000 + 15 × 960 = 32,400 s; availability 36,000/43,200 = 0.83333 (the mean of the
machines' availabilities, 0.875, would be wrong); performance 32,400/36,000 = 0.9; quality
3,930/3,960 = 0.99242; OEE 0.74432. Losses: down 3,600 s, idle 3,600 s, reduced speed
3,600 s, process defects 6 × 30 = 180 s. Energy: M1 360 min × 50 kW + 120 × 10 = 320 kWh,
M2 240 × 20 + 240 × 2 = 88 kWh; 408 kWh / 3,930 good units.
Shift 14-22: PBT 57,600 s, APT 32,400 s, ideal 25,200 + 7,200 = 32,400 s, 4,680 units of which
4,590 good: availability 0.5625, performance 1, quality 0.98077; 412 kWh.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from analytics_plant import MINUTE, add_line, add_machine, at, minutes_of, store_fixture  # noqa: F401

from conftest import World
from sandan.analytics import service
from sandan.analytics.shifts import ShiftPlan
from sandan.core.context import Context
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.telemetry.store import TelemetryStore

T0 = at("2026-03-01T21:00:00")
END = T0 + timedelta(hours=16)
PLAN = ShiftPlan.parse("06:00,14:00,22:00", "Asia/Seoul")
RUN, IDLE, DOWN, CHANGE, STOP = 1, 2, 3, 4, 0
NAMES = ("state", "cycle_count", "defect_count", "power")


def _plan(pieces: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(state, units per minute) for each of 960 minutes from (state, minutes, rate) pieces."""
    state = np.concatenate([np.full(n, s) for s, n, _ in pieces]).astype(float)
    rate = np.concatenate([np.full(n, r) for _, n, r in pieces]).astype(float)
    assert len(state) == 960
    return state, rate


def _rejects(at_minutes: list[range]) -> np.ndarray:
    out = np.zeros(960)
    for span in at_minutes:
        out[list(span)] = 1
    return out


def _series(state: np.ndarray, rate: np.ndarray, rejects: np.ndarray, kw: tuple[float, float]):
    """Tag values for minute -1 (a base reading of the counters) to 959."""
    nan = np.array([np.nan])
    return {
        "state": np.concatenate([nan, state]),
        "cycle_count": np.concatenate([[0.0], np.cumsum(rate)]),
        "defect_count": np.concatenate([[0.0], np.cumsum(rejects)]),
        "power": np.concatenate([nan, np.where(state == RUN, kw[0], kw[1])]),
    }


@pytest.fixture
def plant(ctx: Context, world: World, store: TelemetryStore) -> dict[str, int]:
    line = add_line(ctx, world, "L2")
    m1 = add_machine(ctx, world, line, "M1", NAMES)
    m2 = add_machine(ctx, world, line, "M2", NAMES)
    state1, rate1 = _plan(
        [
            (RUN, 240, 10),  # 06-14
            (DOWN, 60, 0),
            (RUN, 120, 5),
            (IDLE, 60, 0),
            (RUN, 420, 10),  # 14-22
            (CHANGE, 60, 0),
        ]
    )
    state2, rate2 = _plan([(STOP, 240, 0), (RUN, 240, 4), (RUN, 120, 4), (DOWN, 360, 0)])
    series = {
        m1.tags[n]: v
        for n, v in _series(
            state1, rate1, _rejects([range(0, 30), range(480, 522)]), (50, 10)
        ).items()
    }
    series |= {
        m2.tags[n]: v
        for n, v in _series(state2, rate2, _rejects([range(480, 528)]), (20, 2)).items()
    }
    store.append(minutes_of(T0 - MINUTE, series))
    return {"line": line, "m1": m1.id, "m2": m2.id}


def _report(ctx: Context, store: TelemetryStore, **kwargs: object) -> dict:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        return service.oee_report(
            s, system, store, PLAN, start=T0, end=END, now=END + timedelta(days=1), **kwargs
        )


def test_two_machines_two_shifts_by_hand(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    answer = _report(ctx, store, line_id=plant["line"], group_by="shift")
    morning, afternoon, night = answer["groups"]
    assert (morning["key"], morning["label"], answer["shifts"][0]) == (
        "06:00",
        "06:00–14:00",
        "06:00–14:00",
    )
    assert morning["planned_busy_time"] == 43_200
    assert morning["actual_production_time"] == 36_000
    assert morning["ideal_time"] == pytest.approx(32_400)
    assert (morning["produced"], morning["good"], morning["rejects"]) == (3960, 3930, 30)
    assert morning["availability"] == pytest.approx(36_000 / 43_200)
    assert morning["performance"] == pytest.approx(0.9)
    assert morning["quality"] == pytest.approx(3930 / 3960)
    assert morning["oee"] == pytest.approx(36_000 / 43_200 * 0.9 * 3930 / 3960)
    assert morning["oee"] == pytest.approx(0.74432, abs=1e-5)
    assert morning["losses"] == pytest.approx(
        {
            "equipment_failure": 3600,
            "setup_and_adjustment": 0,
            "idling_and_minor_stops": 3600,
            "reduced_speed": 3600,
            "process_defects": 180,
            "reduced_yield": 0,
        }
    )
    assert morning["seconds_in_state"] == {
        "0": 14_400,
        "1": 36_000,
        "2": 3600,
        "3": 3600,
        "4": 0,
    }
    assert morning["kwh"] == pytest.approx(408)
    assert morning["kwh_per_good_unit"] == pytest.approx(408 / 3930)

    assert afternoon["planned_busy_time"] == 57_600
    assert afternoon["availability"] == pytest.approx(0.5625)
    assert afternoon["performance"] == pytest.approx(1.0)
    assert afternoon["quality"] == pytest.approx(4590 / 4680)
    assert afternoon["losses"]["equipment_failure"] == 21_600
    assert afternoon["losses"]["setup_and_adjustment"] == 3600
    assert afternoon["kwh"] == pytest.approx(412)
    assert night["planned_busy_time"] == 0 and night["oee"] == 0 and night["produced"] == 0

    total = answer["total"]
    assert total["planned_busy_time"] == 100_800 and total["machines"] == 2
    assert total["availability"] == pytest.approx(68_400 / 100_800)
    assert total["performance"] == pytest.approx(64_800 / 68_400)
    assert total["oee"] == pytest.approx(64_800 / 100_800 * 8520 / 8640)
    assert total["kwh"] == pytest.approx(820)
    assert total["ideal_cycle_estimated"] is True


def test_by_machine_the_same_elements(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    answer = _report(ctx, store, line_id=plant["line"], group_by="machine")
    m1, m2 = answer["groups"]
    assert (m1["machine_id"], m1["label"], m1["line_id"]) == (plant["m1"], "M1 · M1", plant["line"])
    assert m1["ideal_cycle_s"] == pytest.approx(6.0) and m2["ideal_cycle_s"] == pytest.approx(15.0)
    assert m1["availability"] == pytest.approx(46_800 / 57_600)
    assert m1["performance"] == pytest.approx(43_200 / 46_800)
    assert m1["quality"] == pytest.approx(7128 / 7200)
    assert m2["planned_busy_time"] == 43_200 and m2["actual_production_time"] == 21_600
    assert m2["performance"] == pytest.approx(1.0)
    assert m1["kwh"] + m2["kwh"] == pytest.approx(answer["total"]["kwh"])


def test_by_day_and_line_and_company(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    by_day = _report(ctx, store, line_id=plant["line"], group_by="day")
    (day,) = by_day["groups"]
    assert day["key"] == "2026-03-02" and day["oee"] == pytest.approx(by_day["total"]["oee"])
    company = _report(ctx, store, company_id=world.companies["A"], group_by="line")
    # The world's own machine (no state, no counters) counts as a machine and adds nothing.
    assert company["machines"] == 3
    assert company["total"]["oee"] == pytest.approx(by_day["total"]["oee"])
    lines = {g["line_id"]: g for g in company["groups"]}
    assert lines[plant["line"]]["machines"] == 2 and lines[world.lines["A"]]["machines"] == 1
    assert lines[world.lines["A"]]["planned_busy_time"] == 0
    assert lines[world.lines["A"]]["kwh"] is None  # no power tag: no energy, not zero


def test_a_window_is_taken_in_whole_hours(
    ctx: Context, world: World, store: TelemetryStore, plant: dict[str, int]
) -> None:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        answer = service.oee_report(
            s,
            system,
            store,
            PLAN,
            line_id=plant["line"],
            start=T0 + timedelta(minutes=20),
            end=T0 + timedelta(hours=4, minutes=1),
            now=END,
        )
    assert (answer["start"], answer["end"]) == (T0, T0 + timedelta(hours=5))
    assert answer["total"]["seconds_in_state"]["1"] == (240 + 60) * 60  # M1 + M2


def test_bad_shifts_and_zones_name_the_field() -> None:
    for shifts, zone, field in (
        ("06:30,14:00", "Asia/Seoul", "shifts"),
        ("14:00,06:00", "Asia/Seoul", "shifts"),
        ("6h", "Asia/Seoul", "shifts"),
        ("06:00", "Mars/Olympus", "tz"),
    ):
        with pytest.raises(ValidationFailed) as raised:
            ShiftPlan.parse(shifts, zone)
        assert raised.value.problems[0].field == field


def test_a_silent_state_holds_for_15_minutes(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    """A device that speaks only on change: running at 0, down at 30, running at 50 (minutes),
    power 60 kW at 0. Each state holds 15 minutes (its own and 14 more), then the silence is a
    gap: running 0-15 and 50-60, down 30-45; 15 minutes of 60 kW."""
    line = add_line(ctx, world, "L3")
    m3 = add_machine(ctx, world, line, "M3", ("state", "power"))
    state = np.full(60, np.nan)
    state[[0, 30, 50]] = [RUN, DOWN, RUN]
    power = np.full(60, np.nan)
    power[0] = 60.0
    store.append(minutes_of(T0, {m3.tags["state"]: state, m3.tags["power"]: power}))
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        answer = service.oee_report(
            s, system, store, PLAN, line_id=line, start=T0, end=T0 + timedelta(hours=1), now=END
        )
    total = answer["total"]
    assert total["seconds_in_state"] == {"0": 0, "1": 25 * 60, "2": 0, "3": 15 * 60, "4": 0}
    assert total["availability"] == pytest.approx(25 / 40)
    assert total["kwh"] == pytest.approx(15.0)


def test_a_counter_reset_mid_hour_counts_from_its_new_value(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    """10 units a minute for two hours (1,200); the counter is reset at minute 90 (a shift's
    MES resets it), reading 610 … 900, then 10 … 300."""
    line = add_line(ctx, world, "L4")
    m4 = add_machine(ctx, world, line, "M4", ("state", "cycle_count"))
    minute = np.arange(-1, 120)
    count = np.where(minute < 90, 10.0 * (minute + 1), 10.0 * (minute - 89))
    state = np.where(minute >= 0, float(RUN), np.nan)
    store.append(minutes_of(T0 - MINUTE, {m4.tags["state"]: state, m4.tags["cycle_count"]: count}))
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        answer = service.oee_report(
            s, system, store, PLAN, line_id=line, start=T0, end=T0 + timedelta(hours=2), now=END
        )
    assert answer["total"]["produced"] == 1200
    assert answer["total"]["performance"] == pytest.approx(1.0)  # 10 a minute, the ideal
