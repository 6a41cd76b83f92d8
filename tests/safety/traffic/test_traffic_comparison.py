"""Acceptance: the SUMO comparison runs in the test suite on a small network. Fixed time and
max-pressure run in the real `sumo` over TraCI on the same saturated, asymmetric shift-change
demand; both finish every trip, the adaptive one keeps its minimum green and clearance (read
from its phase log), and it does not delay vehicles more than the fixed plan."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sandan.safety.traffic.control import Switch, Timing, green_intervals
from sandan.safety.traffic.demand import DemandSpec, build_routes
from sandan.safety.traffic.network import SMALL, build_network
from sandan.safety.traffic.run import RunResult, Scenario, run_scenario

TIMING = Timing(min_green_s=10, yellow_s=3, all_red_s=1, decision_s=5)
# 2×2 junctions, one-lane roads: 250 incoming cars in about five minutes, 80 % of them from
# the west, the outgoing shift after the hour, trucks throughout.
RUSH = DemandSpec(
    seed=2,
    horizon_s=1200,
    shift_at_s=700,
    commuters_in=250,
    commuters_out=125,
    trucks_per_hour=120,
    side_weights=(0.8, 0.1, 0.05, 0.05),
    arrive_before_s=200,
    arrive_spread_s=150,
    leave_after_s=150,
    leave_spread_s=120,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult | list[float]]:
    net = build_network(SMALL, tmp_path_factory.mktemp("traffic"))
    routes = build_routes(net, RUSH)
    scenario = Scenario(net, routes, RUSH.horizon_s, drain_s=1800, seed=RUSH.seed)
    seen: list[float] = []

    def live(time: float, phases: dict[str, Switch]) -> None:
        assert set(phases) == {"J0_0", "J0_1", "J1_0", "J1_1"}
        seen.append(time)

    return {
        "vehicles": [float(routes.read_text().count("<vehicle "))],
        "fixed": run_scenario(scenario, "fixed"),
        "adaptive": run_scenario(scenario, "max_pressure", TIMING, live=live),
        "live": seen,
    }


def _run(runs: dict[str, RunResult | list[float]], name: str) -> RunResult:
    run = runs[name]
    assert isinstance(run, RunResult)
    return run


def test_both_runs_complete_the_same_vehicles(runs: dict[str, RunResult | list[float]]) -> None:
    fixed, adaptive = _run(runs, "fixed"), _run(runs, "adaptive")
    (vehicles,) = runs["vehicles"]
    assert isinstance(vehicles, float)
    for run in (fixed, adaptive):
        assert run.vehicles_loaded == run.vehicles_departed == run.vehicles_arrived == vehicles
        assert run.teleports == 0
        assert len(run.junctions) == 4
    assert fixed.switches == []  # the fixed run leaves SUMO's static programme alone


def test_the_demand_saturates_the_fixed_plan(runs: dict[str, RunResult | list[float]]) -> None:
    """A 200 m one-lane approach holds about 27 cars: under the fixed plan it fills up."""
    assert _run(runs, "fixed").max_queue_veh >= 20


def test_adaptive_keeps_min_green_yellow_and_all_red(
    runs: dict[str, RunResult | list[float]],
) -> None:
    adaptive = _run(runs, "adaptive")
    log = adaptive.switches
    greens = green_intervals(log)
    assert {j for j, _start, _len in greens} == {"J0_0", "J0_1", "J1_0", "J1_1"}  # it did act
    assert len(greens) > 20
    assert min(length for _j, _start, length in greens) >= TIMING.min_green_s
    by_junction: dict[str, list[Switch]] = {}
    for sw in log:
        by_junction.setdefault(sw.junction, []).append(sw)
    for switches in by_junction.values():
        for before, after in itertools.pairwise(switches):
            expected = {"green": "yellow", "yellow": "red", "red": "green"}[before.mode]
            assert after.mode == expected
            if before.mode == "yellow":
                assert after.time - before.time >= TIMING.yellow_s
            if before.mode == "red":
                assert after.time - before.time >= TIMING.all_red_s
        # A movement that gets green was red through the whole yellow and all-red before it.
        for left, yellow, red, came in zip(
            switches, switches[1:], switches[2:], switches[3:], strict=False
        ):
            if (left.mode, came.mode) != ("green", "green"):
                continue
            for k, light in enumerate(came.state):
                if light in "Gg" and left.state[k] not in "Gg":
                    assert yellow.state[k] == red.state[k] == "r"
    assert runs["live"] != []  # the live view was fed while it ran


def test_adaptive_delays_no_more_than_fixed(runs: dict[str, RunResult | list[float]]) -> None:
    fixed, adaptive = _run(runs, "fixed"), _run(runs, "adaptive")
    assert adaptive.mean_delay_s <= fixed.mean_delay_s
    assert adaptive.mean_queue_veh <= fixed.mean_queue_veh
    assert adaptive.arrived_in_horizon >= fixed.arrived_in_horizon


def test_a_run_leaves_no_sumo_behind(tmp_path: Path) -> None:
    """Runs start their own SUMO on a free port and always close it, so two can follow each
    other (and run side by side) with the same labels scheme."""
    import traci

    net = build_network(SMALL, tmp_path)
    routes = build_routes(net, RUSH.scaled(300, 0.3))
    scenario = Scenario(net, routes, 300, drain_s=600)
    first = run_scenario(scenario, "max_pressure", TIMING)
    second = run_scenario(scenario, "max_pressure", TIMING)
    assert first.mean_delay_s == second.mean_delay_s  # same seed, same SUMO: same result
    assert not any(label.startswith("sandan-") for label in traci.connection._connections)
