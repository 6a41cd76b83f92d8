"""Direct checks on routes, independent of the solver: the timetable of a route, whether a
stop could be served at all, and why a stop the solver dropped stayed unserved.

The solver only chooses the order; these functions decide what the order means in time, so
the reasons and arrival times a tenant reads come from arithmetic anyone can redo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sandan.logistics.delivery.problem import DropReason, Instance


@dataclass(frozen=True)
class Timetable:
    """When a vehicle leaves the depot, reaches and starts each stop, and returns."""

    depart_s: int
    arrivals_s: list[int]  # the truck at the door
    starts_s: list[int]  # unloading begins (no earlier than the window opens)
    return_s: int


def earliest_starts(inst: Instance, vehicle: int, nodes: Sequence[int]) -> list[int] | None:
    """Service starts when the vehicle leaves as early as it may and never idles needlessly;
    None when a window, the shift or a capacity would break."""
    if int(inst.weight[list(nodes)].sum()) > int(inst.cap_weight[vehicle]):
        return None
    if int(inst.volume[list(nodes)].sum()) > int(inst.cap_volume[vehicle]):
        return None
    t, prev, starts = int(inst.start[vehicle]), 0, []
    for node in nodes:
        t = max(t + int(inst.service[prev]) + int(inst.time[prev, node]), int(inst.ready[node]))
        if t > int(inst.due[node]):
            return None
        starts.append(t)
        prev = node
    if t + int(inst.service[prev]) + int(inst.time[prev, 0]) > int(inst.end[vehicle]):
        return None
    return starts


def timetable(inst: Instance, vehicle: int, nodes: Sequence[int]) -> Timetable | None:
    """The route's times with the departure pushed as late as it goes without making any stop
    later: drivers do not wait at the first gate for an hour. None when infeasible."""
    early = earliest_starts(inst, vehicle, nodes)
    if early is None:
        return None
    if not nodes:
        start = int(inst.start[vehicle])
        return Timetable(start, [], [], start)
    # Latest start at each stop that still lets every later stop keep its earliest start.
    latest = list(early)
    for k in range(len(nodes) - 2, -1, -1):
        a, b = nodes[k], nodes[k + 1]
        gap = int(inst.service[a]) + int(inst.time[a, b])
        latest[k] = min(int(inst.due[a]), latest[k + 1] - gap)
    first = nodes[0]
    depart = max(int(inst.start[vehicle]), latest[0] - int(inst.time[0, first]))
    t, prev = depart, 0
    arrivals, starts = [], []
    for node in nodes:
        arrive = t + int(inst.service[prev]) + int(inst.time[prev, node])
        t = max(arrive, int(inst.ready[node]))
        arrivals.append(arrive)
        starts.append(t)
        prev = node
    back = t + int(inst.service[prev]) + int(inst.time[prev, 0])
    return Timetable(depart, arrivals, starts, back)


def unservable(inst: Instance) -> dict[int, tuple[DropReason, str]]:
    """Stops no plan can serve, by node, each with its reason: checked against every vehicle
    on a trip of its own (depot → stop → depot), all at once over numpy arrays."""
    nodes = np.arange(1, inst.size)
    if nodes.size == 0:
        return {}
    carries = (inst.weight[nodes, None] <= inst.cap_weight[None, :]) & (
        inst.volume[nodes, None] <= inst.cap_volume[None, :]
    )
    begin = np.maximum(inst.start[None, :] + inst.time[0, nodes][:, None], inst.ready[nodes, None])
    back = begin + inst.service[nodes, None] + inst.time[nodes, 0][:, None]
    reaches = (begin <= inst.due[nodes, None]) & (back <= inst.end[None, :])
    found: dict[int, tuple[DropReason, str]] = {}
    for row, node in enumerate(nodes.tolist()):
        if not carries[row].any():
            found[node] = ("over_capacity", _load_text(inst, node))
        elif not reaches[row].any():
            found[node] = ("window_unreachable", _window_text(inst, node))
        elif not (carries[row] & reaches[row]).any():
            found[node] = (
                "no_vehicle_fits",
                "the vehicles big enough for it cannot reach it in its window and return in "
                "their shift",
            )
    return found


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _load_text(inst: Instance, node: int) -> str:
    kg, m3 = inst.weight[node] / 1000, inst.volume[node] / 1e6
    most_kg, most_m3 = inst.cap_weight.max(initial=0) / 1000, inst.cap_volume.max(initial=0) / 1e6
    if m3 == 0:
        return f"{kg:g} kg; the largest vehicle carries {most_kg:g} kg"
    return f"{kg:g} kg / {m3:g} m³; the largest vehicle carries {most_kg:g} kg / {most_m3:g} m³"


def _window_text(inst: Instance, node: int) -> str:
    earliest = int((inst.start + inst.time[0, node]).min(initial=0)) if inst.start.size else 0
    return (
        f"window {_hhmm(int(inst.ready[node]))}-{_hhmm(int(inst.due[node]))}; straight from the "
        f"depot the earliest arrival is {_hhmm(max(earliest, 0))} (depot and shifts "
        f"{_hhmm(int(inst.start.min(initial=0)))}-{_hhmm(int(inst.end.max(initial=0)))})"
    )


def why_dropped(
    inst: Instance, routes: Sequence[Sequence[int]], node: int
) -> tuple[DropReason, str]:
    """Why the optimiser left a servable stop out, by trying it everywhere: in each route's
    every position (routes given per vehicle, empty for an idle one)."""
    roomy = False
    for vehicle, nodes in enumerate(routes):
        load_ok = int(inst.weight[[*nodes, node]].sum()) <= int(inst.cap_weight[vehicle]) and int(
            inst.volume[[*nodes, node]].sum()
        ) <= int(inst.cap_volume[vehicle])
        if not load_ok:
            continue
        roomy = True
        for pos in range(len(nodes) + 1):
            if earliest_starts(inst, vehicle, [*nodes[:pos], node, *nodes[pos:]]) is not None:
                return ("not_placed", "a route could still take it; a longer search may place it")
    if not roomy:
        return ("fleet_capacity_full", "every vehicle that could carry it is loaded to its limit")
    return (
        "fleet_time_full",
        "no route with room can take it without breaking a window or a driver's shift",
    )


def repair(inst: Instance, vehicle: int, nodes: Sequence[int]) -> list[int]:
    """Keep, in order, the stops of a previous route that still fit (windows, shift, load may
    have changed since); the rest are left for the search to place again."""
    kept: list[int] = []
    for node in nodes:
        if earliest_starts(inst, vehicle, [*kept, node]) is not None:
            kept.append(node)
    return kept
