"""Vehicle routing with time windows on OR-Tools: pure (values in, values out), no database.

The model: one depot with opening hours, vehicles of their own capacities, shifts and cost
per km (a heterogeneous fleet), stops with windows and service times. Every stop sits in a
disjunction with a penalty far above any detour, so an impossible stop is dropped rather
than making the whole day infeasible; each dropped stop gets its reason from direct checks
(`schedule`), never from the solver's say-so. Matrices go to OR-Tools as matrices
(`RegisterTransitMatrix`), not Python callbacks, which keeps 500 stops fast.

Search: PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH under a time limit (GLS never stops on
its own); `quick` uses GREEDY_DESCENT, which stops at its first local optimum. With a
previous plan the search starts from it (`ReadAssignmentFromRoutes` +
`SolveFromAssignmentWithParameters`), stops matched by id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.constraint_solver import (  # type: ignore[import-untyped]
    pywrapcp,
    routing_enums_pb2,
)

from sandan.logistics.delivery.problem import HORIZON_S, DropReason, Instance, Problem
from sandan.logistics.delivery.schedule import repair, timetable, unservable, why_dropped

PENALTY_FACTOR = 100  # a dropped stop costs 100 of the longest leg: no detour is worth that


@dataclass(frozen=True)
class Options:
    """How hard to search, and the previous plan (vehicle id → stop ids) to start from."""

    time_limit_s: float | None = None  # None: `default_time_limit` of the day's stops
    quick: bool = False
    solution_limit: int | None = None
    previous: Mapping[int, Sequence[int]] | None = None


@dataclass(frozen=True)
class Visit:
    stop_id: int
    arrival_s: int
    start_s: int
    departure_s: int


@dataclass(frozen=True)
class Route:
    vehicle_id: int
    visits: list[Visit]
    depart_s: int
    return_s: int
    distance_m: int
    cost: int
    weight_kg: float
    volume_m3: float


@dataclass(frozen=True)
class Dropped:
    stop_id: int
    reason: DropReason
    detail: str


@dataclass(frozen=True)
class Solution:
    """Routes of the vehicles that drive (in the problem's vehicle order), dropped stops with
    reasons, the travel cost and, for a warm start, the cost of the plan it started from."""

    routes: list[Route]
    dropped: list[Dropped]
    cost: int
    distance_m: int
    objective: int
    status: str
    warm_started: bool
    seconds: float
    start_objective: int | None = None
    order: dict[int, list[int]] = field(default_factory=dict)  # vehicle id → stop ids


def default_time_limit(stops: int) -> float:
    """Seconds for GLS by size: 10 s at 200 stops (where it lands within ~3 % of a minute's
    search), more for bigger days; see benchmarks/vrp.py."""
    return float(min(60.0, max(2.0, stops / 20)))


def solve(problem: Problem, options: Options | None = None) -> Solution:
    """Plan the routes of one day."""
    options = options or Options()
    began = time.monotonic()
    inst = Instance(problem)
    hopeless = unservable(inst)
    active = [n for n in range(1, inst.size) if n not in hopeless]
    if not problem.vehicles or not active:
        reason: tuple[DropReason, str] = ("over_capacity", "there is no vehicle in the fleet")
        dropped = {n: hopeless.get(n, reason) for n in range(1, inst.size)}
        return _result(inst, [[] for _ in problem.vehicles], dropped, 0, "EMPTY", False, began)
    model = _Model(inst, active)
    params = _parameters(options, len(active))
    model.routing.CloseModelWithParameters(params)
    initial = _warm_start(model, inst, options.previous)
    if initial is not None:
        found = model.routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        found = model.routing.SolveWithParameters(params)
    status = _status_name(model.routing.status())
    if found is None:  # only when the limit ran out before a first solution
        routes: list[list[int]] = [[] for _ in problem.vehicles]
        objective = model.penalty * len(active)
    else:
        routes = model.routes(found)
        objective = int(found.ObjectiveValue())
    served = {n for r in routes for n in r}
    dropped = dict(hopeless)
    for node in active:
        if node not in served:
            dropped[node] = why_dropped(inst, routes, node)
    result = _result(inst, routes, dropped, objective, status, initial is not None, began)
    if initial is None:
        return result
    start_objective = model.objective_of(_initial_routes(model, inst, options.previous or {}))
    return replace(result, start_objective=start_objective)


class _Model:
    """The OR-Tools model over the active nodes (model node m ↔ instance node nodes[m])."""

    def __init__(self, inst: Instance, active: list[int]) -> None:
        self.inst = inst
        self.nodes = [0, *active]
        self.model_of = {n: m for m, n in enumerate(self.nodes)}
        vehicles = len(inst.vehicle_ids)
        self.manager = pywrapcp.RoutingIndexManager(len(self.nodes), vehicles, 0)
        self.routing = pywrapcp.RoutingModel(self.manager)
        ix = self.nodes
        sub = [[int(v) for v in row] for row in inst.time[ix][:, ix]]
        service = [int(inst.service[n]) for n in ix]
        timed = [[t + service[i] for t in row] for i, row in enumerate(sub)]
        time_cb = self.routing.RegisterTransitMatrix(timed)
        self.routing.AddDimension(time_cb, HORIZON_S, HORIZON_S, False, "Time")
        self.time = self.routing.GetDimensionOrDie("Time")
        self.penalty = 1
        for cpk in sorted({int(c) for c in inst.cost_per_km}):
            costs = inst.cost_matrix(cpk)[ix][:, ix]
            self.penalty = max(self.penalty, PENALTY_FACTOR * int(costs.max(initial=1)))
            cb = self.routing.RegisterTransitMatrix([[int(v) for v in row] for row in costs])
            for v in range(vehicles):
                if int(inst.cost_per_km[v]) == cpk:
                    self.routing.SetArcCostEvaluatorOfVehicle(cb, v)
        self._capacity("Weight", [int(inst.weight[n]) for n in ix], inst.cap_weight.tolist())
        if int(inst.volume.sum()) > 0:
            self._capacity("Volume", [int(inst.volume[n]) for n in ix], inst.cap_volume.tolist())
        for m in range(1, len(ix)):
            index = self.manager.NodeToIndex(m)
            self.time.CumulVar(index).SetRange(int(inst.ready[ix[m]]), int(inst.due[ix[m]]))
            self.routing.AddDisjunction([index], self.penalty)
        for v in range(vehicles):
            for index in (self.routing.Start(v), self.routing.End(v)):
                self.time.CumulVar(index).SetRange(int(inst.start[v]), int(inst.end[v]))
            self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(self.routing.End(v)))

    def _capacity(self, name: str, demand: list[int], capacity: list[int]) -> None:
        cb = self.routing.RegisterUnaryTransitVector(demand)
        self.routing.AddDimensionWithVehicleCapacity(cb, 0, capacity, True, name)

    def routes(self, assignment: Any) -> list[list[int]]:
        """Instance nodes per vehicle, in visiting order."""
        found: list[list[int]] = []
        for v in range(len(self.inst.vehicle_ids)):
            index = self.routing.Start(v)
            path: list[int] = []
            index = assignment.Value(self.routing.NextVar(index))
            while not self.routing.IsEnd(index):
                path.append(self.nodes[self.manager.IndexToNode(index)])
                index = assignment.Value(self.routing.NextVar(index))
            found.append(path)
        return found

    def objective_of(self, routes: list[list[int]]) -> int:
        """The solver's objective for routes in instance nodes: travel plus penalties."""
        served = sum(len(r) for r in routes)
        travel = sum(self.inst.route_cost(v, r) for v, r in enumerate(routes))
        return travel + self.penalty * (len(self.nodes) - 1 - served)


def _parameters(options: Options, stops: int) -> Any:
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.first_solution_strategy = strategy
    meta = routing_enums_pb2.LocalSearchMetaheuristic
    params.local_search_metaheuristic = (
        meta.GREEDY_DESCENT if options.quick else meta.GUIDED_LOCAL_SEARCH
    )
    limit = default_time_limit(stops) if options.time_limit_s is None else options.time_limit_s
    params.time_limit.FromMilliseconds(max(1, int(limit * 1000)))
    if options.solution_limit is not None:
        params.solution_limit = options.solution_limit
    return params


def _initial_routes(
    model: _Model, inst: Instance, previous: Mapping[int, Sequence[int]]
) -> list[list[int]]:
    """The previous plan in this instance's nodes: stops gone since are left out, each stop
    kept once, and routes that no longer fit are trimmed (`schedule.repair`)."""
    seen: set[int] = set()
    routes: list[list[int]] = []
    for v, vehicle_id in enumerate(inst.vehicle_ids):
        nodes = []
        for stop_id in previous.get(vehicle_id, ()):
            node = inst.node_of.get(stop_id)
            if node is not None and node in model.model_of and node not in seen:
                nodes.append(node)
                seen.add(node)
        routes.append(repair(inst, v, nodes))
    return routes


def _warm_start(
    model: _Model, inst: Instance, previous: Mapping[int, Sequence[int]] | None
) -> Any | None:
    """An assignment from the previous plan, or None (no plan, or nothing of it still fits)."""
    if not previous:
        return None
    routes = _initial_routes(model, inst, previous)
    if not any(routes):
        return None
    indices = [[model.manager.NodeToIndex(model.model_of[n]) for n in nodes] for nodes in routes]
    return model.routing.ReadAssignmentFromRoutes(indices, True)


def _status_name(code: int) -> str:
    names = {
        0: "NOT_SOLVED",
        1: "SUCCESS",
        2: "PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
        3: "FAIL",
        4: "FAIL_TIMEOUT",
        5: "INVALID",
        6: "INFEASIBLE",
        7: "OPTIMAL",
    }
    return names.get(int(code), str(code))


def _result(
    inst: Instance,
    routes: list[list[int]],
    dropped: dict[int, tuple[DropReason, str]],
    objective: int,
    status: str,
    warm: bool,
    began: float,
) -> Solution:
    made: list[Route] = []
    order: dict[int, list[int]] = {}
    for v, nodes in enumerate(routes):
        if not nodes:
            continue
        table = timetable(inst, v, nodes)
        if table is None:  # the solver's routes always pass; this guards the contract
            raise RuntimeError(f"vehicle {inst.vehicle_ids[v]}: solver route breaks a window")
        visits = [
            Visit(
                stop_id=inst.stop_ids[n - 1],
                arrival_s=a,
                start_s=s,
                departure_s=s + int(inst.service[n]),
            )
            for n, a, s in zip(nodes, table.arrivals_s, table.starts_s, strict=True)
        ]
        path = np.array([0, *nodes, 0])
        made.append(
            Route(
                vehicle_id=inst.vehicle_ids[v],
                visits=visits,
                depart_s=table.depart_s,
                return_s=table.return_s,
                distance_m=int(inst.dist[path[:-1], path[1:]].sum()),
                cost=inst.route_cost(v, nodes),
                weight_kg=int(inst.weight[nodes].sum()) / 1000,
                volume_m3=int(inst.volume[nodes].sum()) / 1e6,
            )
        )
        order[inst.vehicle_ids[v]] = [inst.stop_ids[n - 1] for n in nodes]
    return Solution(
        routes=made,
        dropped=[
            Dropped(inst.stop_ids[n - 1], reason, detail)
            for n, (reason, detail) in sorted(dropped.items())
        ],
        cost=sum(r.cost for r in made),
        distance_m=sum(r.distance_m for r in made),
        objective=objective,
        status=status,
        warm_started=warm,
        seconds=time.monotonic() - began,
        order=order,
    )
