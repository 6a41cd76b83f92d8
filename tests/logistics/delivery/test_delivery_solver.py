"""The VRPTW solver on its own: real OR-Tools, answers checked by independent arithmetic."""

from __future__ import annotations

import math

from vrp_cases import LAT0, LON0, H, check_solution, offset, random_problem

from sandan.logistics.delivery.matrix import haversine_m, road_distances_m, travel_seconds
from sandan.logistics.delivery.problem import Depot, Problem, Stop, Vehicle
from sandan.logistics.delivery.solver import Options, default_time_limit, solve


def test_matrix_is_haversine_times_road_factor_over_speed() -> None:
    lat, lon = [36.0, 37.0, 36.0], [128.0, 128.0, 129.0]
    d = haversine_m(lat, lon)
    assert abs(d[0, 1] - 111_195) < 5  # one degree of latitude
    assert abs(d[0, 2] - 111_195 * math.cos(math.radians(36.0))) < 200
    road = road_distances_m(lat, lon, 1.3)
    assert road[0, 1] == round(d[0, 1] * 1.3) and road[1, 1] == 0
    secs = travel_seconds(road, 36.0)  # 36 km/h = 10 m/s
    assert secs[0, 1] == math.ceil(road[0, 1] / 10)


def test_routes_keep_windows_shifts_and_capacities() -> None:
    fleet = [
        Vehicle(1, capacity_kg=60, capacity_m3=0.5, cost_per_km=900),
        Vehicle(2, capacity_kg=40, capacity_m3=None, shift_start_s=10 * H, shift_end_s=16 * H),
        Vehicle(3, capacity_kg=120, capacity_m3=1.0, cost_per_km=1400),
        Vehicle(4, capacity_kg=60, capacity_m3=0.4),
    ]
    problem = random_problem(40, seed=7, vehicles=fleet)
    solution = solve(problem, Options(time_limit_s=2))
    check_solution(problem, solution)
    assert len(solution.routes) >= 2  # the load needs more than one truck
    assert solution.cost == sum(r.cost for r in solution.routes) > 0


def test_quick_mode_stops_by_itself_with_a_valid_plan() -> None:
    problem = random_problem(30, seed=3)
    solution = solve(problem, Options(time_limit_s=30, quick=True))
    check_solution(problem, solution)
    assert solution.dropped == []


def _stop(i: int, north: float, east: float, ready: float, due: float, kg: float = 5) -> Stop:
    lat, lon = offset(north, east)
    return Stop(i, lat, lon, int(ready * H), int(due * H), 600, kg)


def test_impossible_stops_are_dropped_with_their_reason() -> None:
    fleet = [
        Vehicle(1, capacity_kg=100),
        Vehicle(2, capacity_kg=300, shift_start_s=8 * H, shift_end_s=9 * H),
    ]
    stops = [
        _stop(1, 1, 1, 9, 12),
        _stop(2, 2, 0, 9, 12, kg=500),  # heavier than any truck
        _stop(3, 1, 2, 6, 7),  # its window closes before the depot opens
        _stop(4, 30, 30, 8, 18, kg=200),  # only truck 2 carries it, whose shift is too short
    ]
    problem = Problem(Depot(LAT0, LON0, 8 * H, 18 * H), stops, fleet)
    solution = solve(problem, Options(time_limit_s=1))
    check_solution(problem, solution)
    reasons = {d.stop_id: d.reason for d in solution.dropped}
    assert reasons == {2: "over_capacity", 3: "window_unreachable", 4: "no_vehicle_fits"}
    assert [v.stop_id for r in solution.routes for v in r.visits] == [1]
    detail = {d.stop_id: d.detail for d in solution.dropped}
    assert "500 kg" in detail[2] and "06:00-07:00" in detail[3]


def test_a_full_fleet_drops_with_capacity_or_time_as_the_reason() -> None:
    one_small = [Vehicle(1, capacity_kg=10)]
    heavy = [_stop(i, i, 0, 8.5, 17, kg=6) for i in (1, 2, 3)]
    problem = Problem(Depot(LAT0, LON0, 8 * H, 18 * H), heavy, one_small)
    solution = solve(problem, Options(time_limit_s=1))
    check_solution(problem, solution)
    assert len(solution.dropped) == 2
    assert {d.reason for d in solution.dropped} == {"fleet_capacity_full"}

    # Two unloadings of 10 minutes, 8 km apart, both to start between 10:00 and 10:05.
    rush = [_stop(1, 4, 0, 10, 10 + 5 / 60), _stop(2, -4, 0, 10, 10 + 5 / 60)]
    problem = Problem(Depot(LAT0, LON0, 8 * H, 18 * H), rush, [Vehicle(1, capacity_kg=100)])
    solution = solve(problem, Options(time_limit_s=1))
    check_solution(problem, solution)
    assert [d.reason for d in solution.dropped] == ["fleet_time_full"]


def test_warm_start_is_no_worse_than_its_start_and_keeps_stop_ids() -> None:
    problem = random_problem(40, seed=11)
    first = solve(problem, Options(time_limit_s=2))
    check_solution(problem, first)
    assert not first.warm_started and first.start_objective is None

    # The next morning: one stop was cancelled and a new one came in.
    removed = problem.stops[5].id
    lat, lon = offset(3, -2)
    added = Stop(9999, lat, lon, 11 * H, 13 * H, 600, 4.0)
    stops = [s for s in problem.stops if s.id != removed] + [added]
    again = Problem(problem.depot, stops, problem.vehicles, problem.road_factor)
    second = solve(again, Options(time_limit_s=1, previous=first.order))
    check_solution(again, second)
    assert second.warm_started
    assert second.start_objective is not None
    assert second.objective <= second.start_objective
    ids = {v.stop_id for r in second.routes for v in r.visits} | {d.stop_id for d in second.dropped}
    assert ids == {s.id for s in stops} and removed not in ids
    assert 9999 in {v.stop_id for r in second.routes for v in r.visits}
    # Started from the previous plan: the same stops, less the cancelled one, in the same
    # order on the same trucks cost what the warm start says, with the new stop unserved.
    kept = {vid: [s for s in order if s != removed] for vid, order in first.order.items()}
    ours = solve(again, Options(time_limit_s=0.01, quick=True, previous=kept, solution_limit=1))
    assert ours.start_objective == second.start_objective


def test_a_previous_plan_that_no_longer_fits_is_trimmed_not_trusted() -> None:
    problem = random_problem(20, seed=5)
    first = solve(problem, Options(time_limit_s=1))
    # Every window moves to the afternoon and trucks shrink: the old order breaks.
    late = [
        Stop(s.id, s.lat, s.lon, 14 * H, 16 * H, s.service_s, s.weight_kg) for s in problem.stops
    ]
    fleet = [Vehicle(v.id, capacity_kg=30) for v in problem.vehicles]
    changed = Problem(problem.depot, late, fleet, problem.road_factor)
    second = solve(changed, Options(time_limit_s=1, previous=first.order))
    check_solution(changed, second)
    assert second.objective <= (second.start_objective or 0)


def test_no_fleet_drops_everything_with_a_reason() -> None:
    problem = random_problem(3, seed=1, vehicles=[])
    problem = Problem(problem.depot, problem.stops, [])
    solution = solve(problem)
    assert solution.routes == [] and len(solution.dropped) == 3


def test_default_time_limit_grows_with_the_day() -> None:
    assert default_time_limit(10) == 2.0
    assert default_time_limit(200) == 10.0
    assert default_time_limit(5000) == 60.0
