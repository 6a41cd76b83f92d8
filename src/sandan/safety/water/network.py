"""The complex's water network, planned from where the factories are.

A plan is pure data (nodes, pipes, DMAs), so it is deterministic and cheap to compare; the
WNTR model is built from it. Layout: a reservoir (the industrial water plant) feeds a trunk
main joining one trunk node per zone (a minimum spanning tree); each zone is cut into
district metered areas (DMAs) of at most `per_dma` factories along the longitude, each fed by
one metered inlet pipe; inside a DMA a main runs through a roadside tap per factory (a
spanning tree closed into one loop) and each factory hangs on its tap by a service pipe.
Pipes are sized for their peak downstream demand at a small head loss per km.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import wntr  # type: ignore[import-untyped]

M_PER_DEG_LAT = 110_950.0
SIZES_M = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
ROUGHNESS = 120.0  # Hazen-Williams C of ductile iron
REQUIRED_PRESSURE_M = 20.0  # full service at or above this pressure (PDD)
PEAK_FACTOR = 1.6  # peak hour over mean, for pipe sizing


@dataclass(frozen=True)
class Factory:
    """A factory (one per company) as a demand node: where, how much, and how it works."""

    company_id: int
    name: str
    zone: str
    lat: float
    lon: float
    base_m3h: float  # mean demand on a working day
    shifts: str  # "3" (24-h plant), "2" (06-22 h) or "1" (08-18 h)
    sunday_off: bool
    employees: int


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # reservoir | trunk | inlet | tap | factory
    lat: float
    lon: float
    elevation: float
    dma: str | None = None
    company_id: int | None = None


@dataclass(frozen=True)
class Pipe:
    id: str
    kind: str  # trunk | inlet | main | service
    start: str
    end: str
    length_m: float
    diameter_m: float
    dma: str | None = None


@dataclass(frozen=True)
class Dma:
    code: str
    zone: str
    inlet_pipe: str
    inlet_node: str
    factories: tuple[int, ...]  # indices into NetworkPlan.factories
    lat: float
    lon: float


@dataclass(frozen=True)
class NetworkPlan:
    factories: tuple[Factory, ...]
    nodes: tuple[Node, ...]
    pipes: tuple[Pipe, ...]
    dmas: tuple[Dma, ...]
    reservoir_head: float

    def factory_dma(self) -> np.ndarray:
        """Index of each factory's DMA (aligned with `factories`)."""
        out = np.zeros(len(self.factories), dtype=np.int64)
        for d, dma in enumerate(self.dmas):
            out[list(dma.factories)] = d
        return out

    def mains_km(self) -> np.ndarray:
        """Length of main in each DMA, km (the textbook background-loss allowance uses it)."""
        index = {dma.code: d for d, dma in enumerate(self.dmas)}
        km = np.zeros(len(self.dmas))
        for pipe in self.pipes:
            if pipe.kind == "main" and pipe.dma is not None:
                km[index[pipe.dma]] += pipe.length_m / 1000
        return km


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Ground distance between two (lat, lon) points; equirectangular is plenty at 5 km."""
    dy = (a[0] - b[0]) * M_PER_DEG_LAT
    dx = (a[1] - b[1]) * M_PER_DEG_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


def _spanning_tree(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Prim's minimum spanning tree from point 0, as (parent, child) edges in growth order."""
    n = len(points)
    if n < 2:
        return []
    pts = np.array(points)
    scale = np.array([M_PER_DEG_LAT, M_PER_DEG_LAT * math.cos(math.radians(pts[:, 0].mean()))])
    xy = pts * scale
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    inside = np.zeros(n, dtype=bool)
    inside[0] = True
    best, parent = dist[0].copy(), np.zeros(n, dtype=np.int64)
    edges: list[tuple[int, int]] = []
    for _ in range(n - 1):
        child = int(np.argmin(np.where(inside, np.inf, best)))
        edges.append((int(parent[child]), child))
        inside[child] = True
        closer = dist[child] < best
        best = np.where(closer, dist[child], best)
        parent = np.where(closer, child, parent)
    return edges


def _size(peak_m3h: float, gradient: float = 0.004) -> float:
    """Smallest standard diameter whose Hazen-Williams head loss at the peak stays under
    `gradient` (m per m of pipe), so pressure holds at the far end of long mains."""
    q = max(peak_m3h, 0.1) / 3600
    for d in SIZES_M:
        if 10.67 * q**1.852 / (ROUGHNESS**1.852 * d**4.87) <= gradient:
            return d
    return SIZES_M[-1]


def _downstream(edges: list[tuple[int, int]], load: list[float]) -> list[float]:
    """Per edge (parent, child): the load of the child's subtree (edges in growth order)."""
    total = list(load)
    for parent, child in reversed(edges):
        total[parent] += total[child]
    return [total[child] for _, child in edges]


def _split_zone(members: list[int], factories: list[Factory], per_dma: int) -> list[list[int]]:
    """Cut a zone's factories into DMAs of at most `per_dma`, west to east."""
    ordered = sorted(members, key=lambda i: (factories[i].lon, factories[i].company_id))
    parts = max(1, math.ceil(len(ordered) / per_dma))
    return [list(chunk) for chunk in np.array_split(np.array(ordered), parts) if len(chunk)]


def plan_network(factories: list[Factory], *, per_dma: int = 10, seed: int = 7) -> NetworkPlan:
    """The network for these factories; the same factories and seed give the same plan."""
    if not factories:
        raise ValueError("a network needs at least one factory")
    rng = random.Random(seed)
    lat0 = sum(f.lat for f in factories) / len(factories)

    def elevation(lat: float) -> float:  # the valley floor rises gently to the north
        return round(38.0 + (lat - lat0) * 400 + rng.uniform(-1.0, 1.0), 2)

    nodes: list[Node] = []
    pipes: list[Pipe] = []
    dmas: list[Dma] = []
    by_zone: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(factories):
        by_zone[f.zone].append(i)
    zones = sorted(by_zone)
    west = min(f.lon for f in factories) - 0.012
    res = Node("RES", "reservoir", round(lat0, 6), round(west, 6), 0.0)
    zone_pt = {
        z: (
            sum(factories[i].lat for i in by_zone[z]) / len(by_zone[z]),
            min(factories[i].lon for i in by_zone[z]) - 0.003,
        )
        for z in zones
    }
    nodes.append(res)
    nodes.extend(Node(f"T-{z}", "trunk", *zone_pt[z], elevation(zone_pt[z][0])) for z in zones)
    zone_load = [0.0] + [sum(factories[i].base_m3h for i in by_zone[z]) for z in zones]
    trunk_pts = [(res.lat, res.lon)] + [zone_pt[z] for z in zones]
    trunk_ids = ["RES"] + [f"T-{z}" for z in zones]
    trunk_edges = _spanning_tree(trunk_pts)
    for (a, b), load in zip(trunk_edges, _downstream(trunk_edges, zone_load), strict=True):
        length = distance_m(trunk_pts[a], trunk_pts[b]) * 1.2
        diameter = _size(load * PEAK_FACTOR, gradient=0.0015)
        pipes.append(
            Pipe(
                f"TR-{trunk_ids[b]}",
                "trunk",
                trunk_ids[a],
                trunk_ids[b],
                round(length, 1),
                diameter,
            )
        )
    for z in zones:
        for k, members in enumerate(_split_zone(by_zone[z], factories, per_dma), start=1):
            dmas.append(
                _plan_dma(f"{z}-{k}", z, members, factories, zone_pt[z], elevation, nodes, pipes)
            )
    head = max(n.elevation for n in nodes) + 52.0
    return NetworkPlan(tuple(factories), tuple(nodes), tuple(pipes), tuple(dmas), head)


def _plan_dma(
    code: str,
    zone: str,
    members: list[int],
    factories: list[Factory],
    trunk: tuple[float, float],
    elevation: Callable[[float], float],
    nodes: list[Node],
    pipes: list[Pipe],
) -> Dma:
    """One DMA: inlet node and metered inlet pipe, taps on a looped main, service pipes."""
    lat = sum(factories[i].lat for i in members) / len(members)
    lon = min(factories[i].lon for i in members) - 0.0012
    inlet = Node(f"{code}-IN", "inlet", round(lat, 6), round(lon, 6), elevation(lat), code)
    nodes.append(inlet)
    total = sum(factories[i].base_m3h for i in members)
    pipes.append(
        Pipe(
            f"{code}-IN",
            "inlet",
            f"T-{zone}",
            inlet.id,
            round(distance_m(trunk, (lat, lon)) * 1.2 + 50, 1),
            _size(total * PEAK_FACTOR),
            code,
        )
    )
    taps: list[Node] = []
    for i in members:
        f = factories[i]
        tap = Node(
            f"{code}-TAP{f.company_id}",
            "tap",
            round(f.lat - 0.0003, 6),
            round(f.lon, 6),
            elevation(f.lat),
            code,
        )
        fac = Node(
            f"F{f.company_id}", "factory", f.lat, f.lon, elevation(f.lat), code, f.company_id
        )
        taps.append(tap)
        nodes.extend((tap, fac))
        pipes.append(
            Pipe(
                f"{code}-SV{f.company_id}",
                "service",
                tap.id,
                fac.id,
                35.0,
                _size(f.base_m3h * PEAK_FACTOR * 1.5),
                code,
            )
        )
    points = [(inlet.lat, inlet.lon)] + [(t.lat, t.lon) for t in taps]
    ids = [inlet.id] + [t.id for t in taps]
    edges = _spanning_tree(points)
    loads = [0.0] + [factories[i].base_m3h for i in members]
    for n, ((a, b), load) in enumerate(zip(edges, _downstream(edges, loads), strict=True)):
        pipes.append(
            Pipe(
                f"{code}-M{n + 1}",
                "main",
                ids[a],
                ids[b],
                round(distance_m(points[a], points[b]) * 1.2 + 10, 1),
                _size(max(load, total / 2) * PEAK_FACTOR),
                code,
            )
        )
    if len(taps) >= 3:  # close the tree into a loop: inlet to the farthest tap
        far = max(range(1, len(points)), key=lambda j: distance_m(points[0], points[j]))
        pipes.append(
            Pipe(
                f"{code}-M0",
                "main",
                inlet.id,
                ids[far],
                round(distance_m(points[0], points[far]) * 1.3 + 10, 1),
                _size(total / 2 * PEAK_FACTOR),
                code,
            )
        )
    return Dma(code, zone, f"{code}-IN", inlet.id, tuple(members), inlet.lat, inlet.lon)


def build_model(
    plan: NetworkPlan, demand_m3h: np.ndarray, step_s: int = 3600
) -> wntr.network.WaterNetworkModel:
    """The WNTR model running `demand_m3h` (factories × steps) as each factory's pattern,
    pressure-driven (PDD) so a break shows as lost supply rather than negative pressure."""
    wn = wntr.network.WaterNetworkModel()
    steps = demand_m3h.shape[1]
    wn.options.time.duration = (steps - 1) * step_s
    wn.options.time.hydraulic_timestep = step_s
    wn.options.time.pattern_timestep = step_s
    wn.options.time.report_timestep = step_s
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = REQUIRED_PRESSURE_M
    wn.options.hydraulic.minimum_pressure = 0.0
    company_row = {f.company_id: i for i, f in enumerate(plan.factories)}
    for node in plan.nodes:
        xy = (node.lon, node.lat)
        if node.kind == "reservoir":
            wn.add_reservoir(node.id, base_head=plan.reservoir_head, coordinates=xy)
        elif node.kind == "factory" and node.company_id is not None:
            row = demand_m3h[company_row[node.company_id]]
            base = max(float(row.mean()), 1e-6)
            wn.add_pattern(node.id, (row / base).tolist())
            wn.add_junction(
                node.id,
                base_demand=base / 3600,
                demand_pattern=node.id,
                elevation=node.elevation,
                coordinates=xy,
            )
        else:
            wn.add_junction(node.id, base_demand=0.0, elevation=node.elevation, coordinates=xy)
    for pipe in plan.pipes:
        wn.add_pipe(
            pipe.id,
            pipe.start,
            pipe.end,
            length=pipe.length_m,
            diameter=pipe.diameter_m,
            roughness=ROUGHNESS,
        )
    return wn
