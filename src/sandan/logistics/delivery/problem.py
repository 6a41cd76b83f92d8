"""A day's delivery problem in plain values, and the same as integer arrays for the solver.

Times are seconds after the plan day's local midnight; weights and volumes are kept as whole
grams and cubic centimetres so the solver's integer dimensions lose nothing a scale shows.
Node 0 is the depot (the shared warehouse); node i is the i-th stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from sandan.logistics.delivery.matrix import IntMatrix, road_distances_m, travel_seconds

DAY_S = 86_400
HORIZON_S = 2 * DAY_S  # a late shift may run past midnight
GRAMS_PER_KG = 1000
CM3_PER_M3 = 1_000_000

DropReason = Literal[
    "over_capacity",  # heavier or bulkier than any vehicle can carry
    "window_unreachable",  # no vehicle reaches it in its window even on a trip of its own
    "no_vehicle_fits",  # the vehicles that can carry it cannot reach it in time, and back
    "fleet_capacity_full",  # every vehicle that could take it is loaded to its limit
    "fleet_time_full",  # it fits no route without breaking a window or a shift
    "not_placed",  # a route had room, but the search ended before it placed the stop
]


@dataclass(frozen=True)
class Depot:
    """Where every route starts and ends, and when it is open."""

    lat: float
    lon: float
    opens_s: int = 8 * 3600
    closes_s: int = 18 * 3600


@dataclass(frozen=True)
class Stop:
    """A delivery: where, the window to start unloading in, how long it takes, how much."""

    id: int
    lat: float
    lon: float
    ready_s: int
    due_s: int
    service_s: int = 600
    weight_kg: float = 0.0
    volume_m3: float = 0.0


@dataclass(frozen=True)
class Vehicle:
    """A truck of the shared fleet; a capacity of None means that measure does not bind."""

    id: int
    capacity_kg: float | None
    capacity_m3: float | None = None
    shift_start_s: int = 0
    shift_end_s: int = DAY_S
    cost_per_km: int = 1000


@dataclass(frozen=True)
class Problem:
    """Everything one solve needs."""

    depot: Depot
    stops: Sequence[Stop]
    vehicles: Sequence[Vehicle]
    road_factor: float = 1.3
    speed_kmh: float = 30.0


IntVector = npt.NDArray[np.int64]


def _units(values: Sequence[float], scale: int) -> IntVector:
    return np.ceil(np.asarray(values, dtype=np.float64) * scale - 1e-9).astype(np.int64)


def _capacity(values: Sequence[float | None], scale: int, total: int) -> IntVector:
    """A vehicle's capacity in units; an unbounded measure gets the day's whole demand."""
    return np.array([total if v is None else int(v * scale + 1e-9) for v in values], np.int64)


class Instance:
    """The problem as arrays: node 0 the depot, node i the stop `problem.stops[i - 1]`."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        stops, vehicles, depot = problem.stops, problem.vehicles, problem.depot
        lat = [depot.lat, *(s.lat for s in stops)]
        lon = [depot.lon, *(s.lon for s in stops)]
        self.dist: IntMatrix = road_distances_m(lat, lon, problem.road_factor)
        self.time: IntMatrix = travel_seconds(self.dist, problem.speed_kmh)
        self.service: IntVector = np.array([0, *(s.service_s for s in stops)], np.int64)
        self.ready: IntVector = np.array([depot.opens_s, *(s.ready_s for s in stops)], np.int64)
        self.due: IntVector = np.array([depot.closes_s, *(s.due_s for s in stops)], np.int64)
        self.weight = _units([0.0, *(s.weight_kg for s in stops)], GRAMS_PER_KG)
        self.volume = _units([0.0, *(s.volume_m3 for s in stops)], CM3_PER_M3)
        total_w, total_v = int(self.weight.sum()), int(self.volume.sum())
        self.cap_weight = _capacity([v.capacity_kg for v in vehicles], GRAMS_PER_KG, total_w)
        self.cap_volume = _capacity([v.capacity_m3 for v in vehicles], CM3_PER_M3, total_v)
        # A vehicle works while both its shift and the depot allow.
        self.start: IntVector = np.array(
            [max(depot.opens_s, v.shift_start_s) for v in vehicles], np.int64
        )
        self.end: IntVector = np.array(
            [min(depot.closes_s, v.shift_end_s) for v in vehicles], np.int64
        )
        self.cost_per_km: IntVector = np.array([v.cost_per_km for v in vehicles], np.int64)
        self.stop_ids = [s.id for s in stops]
        self.node_of = {s.id: i + 1 for i, s in enumerate(stops)}
        self.vehicle_ids = [v.id for v in vehicles]
        self._costs: dict[int, IntMatrix] = {}

    @property
    def size(self) -> int:
        """Nodes including the depot."""
        return len(self.stop_ids) + 1

    def cost_matrix(self, cost_per_km: int) -> IntMatrix:
        """Arc costs for a vehicle of this cost class (currency units per leg)."""
        cached = self._costs.get(cost_per_km)
        if cached is None:
            cached = self._costs[cost_per_km] = np.rint(self.dist * (cost_per_km / 1000.0)).astype(
                np.int64
            )
        return cached

    def route_cost(self, vehicle: int, nodes: Sequence[int]) -> int:
        """The travel cost of a route, depot to depot, as the solver counts it."""
        path = np.array([0, *nodes, 0], np.int64)
        return int(self.cost_matrix(int(self.cost_per_km[vehicle]))[path[:-1], path[1:]].sum())
