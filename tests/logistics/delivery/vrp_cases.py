"""Small delivery problems for the tests, and an independent check of a solution's times.

The check recomputes every leg with its own haversine (not the package's matrix code) and
walks each route as a driver would: leave, drive, wait for the window, unload, drive on.
"""

from __future__ import annotations

import math
import random

from sandan.logistics.delivery.problem import Depot, Problem, Stop, Vehicle
from sandan.logistics.delivery.solver import Solution

LAT0, LON0 = 36.10, 128.38  # Gumi
H = 3600


def offset(north_km: float, east_km: float) -> tuple[float, float]:
    """A point this many km north and east of the complex centre."""
    lat = LAT0 + north_km / 111.195
    lon = LON0 + east_km / (111.195 * math.cos(math.radians(LAT0)))
    return lat, lon


def random_problem(
    n: int, seed: int, vehicles: list[Vehicle] | None = None, road_factor: float = 1.3
) -> Problem:
    """n stops on 20×20 km around the depot, 2-h windows within 08-18, 10-min service."""
    rng = random.Random(seed)
    stops = []
    for i in range(n):
        lat, lon = offset(rng.uniform(-10, 10), rng.uniform(-10, 10))
        ready = rng.randrange(8 * H, 16 * H + 1, 300)
        stops.append(
            Stop(
                id=1000 + i,
                lat=lat,
                lon=lon,
                ready_s=ready,
                due_s=ready + 2 * H,
                service_s=600,
                weight_kg=float(rng.randint(1, 10)),
                volume_m3=rng.randint(1, 10) / 100,
            )
        )
    fleet = vehicles or [Vehicle(id=v + 1, capacity_kg=100) for v in range(n // 8 + 2)]
    return Problem(Depot(LAT0, LON0, 8 * H, 18 * H), stops, fleet, road_factor, 30.0)


def leg_seconds(problem: Problem, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Seconds to drive from a to b: great-circle metres × road factor at the speed."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    metres = 2 * 6_371_008.8 * math.asin(math.sqrt(h)) * problem.road_factor
    return metres * 3.6 / problem.speed_kmh


def check_solution(problem: Problem, solution: Solution) -> None:
    """Every stop once, windows, shifts, depot hours and loads hold, recomputed by hand."""
    stops = {s.id: s for s in problem.stops}
    fleet = {v.id: v for v in problem.vehicles}
    depot = (problem.depot.lat, problem.depot.lon)
    served = [v.stop_id for r in solution.routes for v in r.visits]
    dropped = [d.stop_id for d in solution.dropped]
    assert sorted(served + dropped) == sorted(stops), "each stop exactly once"
    for route in solution.routes:
        vehicle = fleet[route.vehicle_id]
        assert route.depart_s >= max(problem.depot.opens_s, vehicle.shift_start_s)
        t, here = float(route.depart_s), depot
        for k, visit in enumerate(route.visits):
            stop = stops[visit.stop_id]
            arrive = t + leg_seconds(problem, here, (stop.lat, stop.lon))
            slack = k + 2  # whole seconds per leg, rounded up
            assert abs(visit.arrival_s - arrive) <= slack, (visit, arrive)
            assert visit.start_s == max(visit.arrival_s, stop.ready_s)
            assert stop.ready_s <= visit.start_s <= stop.due_s, (stop, visit)
            assert visit.departure_s == visit.start_s + stop.service_s
            t, here = float(visit.departure_s), (stop.lat, stop.lon)
        back = t + leg_seconds(problem, here, depot)
        assert abs(route.return_s - back) <= len(route.visits) + 2
        assert route.return_s <= min(problem.depot.closes_s, vehicle.shift_end_s)
        weight = sum(stops[v.stop_id].weight_kg for v in route.visits)
        volume = sum(stops[v.stop_id].volume_m3 for v in route.visits)
        assert weight == route.weight_kg or abs(weight - route.weight_kg) < 1e-6
        if vehicle.capacity_kg is not None:
            assert weight <= vehicle.capacity_kg + 1e-9
        if vehicle.capacity_m3 is not None:
            assert volume <= vehicle.capacity_m3 + 1e-9
