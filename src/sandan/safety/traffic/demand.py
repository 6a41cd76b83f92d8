"""Traffic demand around a shift change, as seeded trips routed by the real `duarouter`.

Gumi's plants run three shifts (06:00, 14:00, 22:00). Around a change the incoming shift's
commuter cars drive from the city to the factory gates before the hour, the outgoing shift's
cars leave the gates after it, and freight trucks run in and out all the time. Most workers
live on one side of the complex (the city side, west by default), so the demand is
asymmetric: that is what a fixed split wastes green on.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import astuple, dataclass, replace
from pathlib import Path

import numpy as np

from sandan.safety.traffic.network import SIDES, Network, produce, sumo_binary


@dataclass(frozen=True)
class DemandSpec:
    """Vehicles of one shift change; times are seconds from the start of the simulation."""

    seed: int = 7
    horizon_s: int = 3600  # the window vehicles depart in
    shift_at_s: int = 1800  # the shift change, e.g. 14:00 when the run starts at 13:30
    commuters_in: int = 1400  # cars of the incoming shift
    commuters_out: int = 1100  # cars of the outgoing shift
    trucks_per_hour: float = 180.0
    side_weights: tuple[float, float, float, float] = (0.5, 0.25, 0.15, 0.10)  # W S E N
    zone_weights: tuple[float, float, float, float] = (0.35, 0.25, 0.2, 0.2)  # zones 1..4
    arrive_before_s: float = 900.0  # incoming cars reach the gate this long before the hour
    arrive_spread_s: float = 420.0
    leave_after_s: float = 600.0  # outgoing cars leave this long after the hour
    leave_spread_s: float = 360.0

    def key(self) -> str:
        """A stable name for the route files of this demand."""
        return "d" + hashlib.sha256(repr(astuple(self)).encode()).hexdigest()[:10]

    def scaled(self, horizon_s: int, scale: float = 1.0, seed: int | None = None) -> DemandSpec:
        """The same shift change squeezed or stretched to `horizon_s` (the hour of the change
        in the middle) at `scale` times the flow, so saturation does not depend on length."""
        f = horizon_s / self.horizon_s
        return replace(
            self,
            seed=self.seed if seed is None else seed,
            horizon_s=horizon_s,
            shift_at_s=round(self.shift_at_s * f),
            commuters_in=round(self.commuters_in * f * scale),
            commuters_out=round(self.commuters_out * f * scale),
            trucks_per_hour=self.trucks_per_hour * scale,
            arrive_before_s=self.arrive_before_s * f,
            arrive_spread_s=self.arrive_spread_s * f,
            leave_after_s=self.leave_after_s * f,
            leave_spread_s=self.leave_spread_s * f,
        )


VTYPES = (
    '  <vType id="car" vClass="passenger" length="4.5" accel="2.6" decel="4.5" sigma="0.5"/>\n'
    '  <vType id="truck" vClass="truck" length="12.0" accel="1.1" decel="4.0" sigma="0.5" '
    'maxSpeed="22.2" guiShape="truck"/>\n'
)


@dataclass(frozen=True)
class Trips:
    """Columns of the generated trips, before routing."""

    depart: np.ndarray  # seconds
    kind: np.ndarray  # 0 car, 1 truck
    origin: np.ndarray  # edge ids (object array)
    destination: np.ndarray


def _pick(
    rng: np.random.Generator, groups: list[list[str]], weights: tuple[float, ...], k: int
) -> np.ndarray:
    """k edges: a group by weight (only non-empty groups), then an edge of it uniformly."""
    usable = [i for i, g in enumerate(groups) if g]
    w = np.array([weights[i] for i in usable], float)
    chosen = rng.choice(len(usable), size=k, p=w / w.sum())
    return np.array([groups[usable[g]][rng.integers(len(groups[usable[g]]))] for g in chosen])


def make_trips(network: Network, demand: DemandSpec) -> Trips:
    """Seeded trips: commuters in before the change, out after it, trucks through the window."""
    rng = np.random.default_rng(demand.seed)
    entries = [network.entries[s] for s in SIDES]
    exits = [network.exits[s] for s in SIDES]
    gates = [network.gates[z] for z in (1, 2, 3, 4)]
    sw, zw = demand.side_weights, demand.zone_weights
    n_in, n_out = demand.commuters_in, demand.commuters_out
    n_trucks = int(rng.poisson(demand.trucks_per_hour * demand.horizon_s / 3600))
    travel = 120.0  # a rough drive from the city to a gate: departures lead arrivals by this
    depart_in = rng.normal(
        demand.shift_at_s - demand.arrive_before_s - travel, demand.arrive_spread_s, n_in
    )
    depart_out = rng.normal(demand.shift_at_s + demand.leave_after_s, demand.leave_spread_s, n_out)
    depart_truck = rng.uniform(0, demand.horizon_s, n_trucks)
    truck_inbound = rng.random(n_trucks) < 0.6
    n_tin = int(truck_inbound.sum())
    truck_origin = np.empty(n_trucks, object)
    truck_dest = np.empty(n_trucks, object)
    truck_origin[truck_inbound] = _pick(rng, entries, sw, n_tin)
    truck_dest[truck_inbound] = _pick(rng, gates, zw, n_tin)
    truck_origin[~truck_inbound] = _pick(rng, gates, zw, n_trucks - n_tin)
    truck_dest[~truck_inbound] = _pick(rng, exits, sw, n_trucks - n_tin)
    depart = np.concatenate([depart_in, depart_out, depart_truck])
    origin = np.concatenate(
        [_pick(rng, entries, sw, n_in), _pick(rng, gates, zw, n_out), truck_origin]
    )
    dest = np.concatenate([_pick(rng, gates, zw, n_in), _pick(rng, exits, sw, n_out), truck_dest])
    kind = np.concatenate([np.zeros(n_in + n_out, np.int8), np.ones(n_trucks, np.int8)])
    keep = (depart >= 0) & (depart < demand.horizon_s) & (origin != dest)
    order = np.argsort(np.round(depart[keep]), kind="stable")
    return Trips(
        np.round(depart[keep][order]), kind[keep][order], origin[keep][order], dest[keep][order]
    )


def write_trips(trips: Trips, path: Path) -> None:
    """SUMO trip XML, sorted by departure."""
    names = ("car", "truck")
    lines = [f"<routes>\n{VTYPES}"]
    for i in range(len(trips.depart)):
        kind = names[int(trips.kind[i])]
        lines.append(
            f'  <trip id="{kind}{i}" type="{kind}" depart="{trips.depart[i]:.0f}" '
            f'from="{trips.origin[i]}" to="{trips.destination[i]}" departLane="best" '
            f'departSpeed="max"/>\n'
        )
    lines.append("</routes>\n")
    path.write_text("".join(lines))


def build_routes(network: Network, demand: DemandSpec) -> Path:
    """Route the demand's trips with duarouter (shortest travel time), once per demand."""
    directory = network.directory / demand.key()
    directory.mkdir(parents=True, exist_ok=True)
    routes = directory / "routes.rou.xml"
    if not routes.exists():
        token = uuid.uuid4().hex  # concurrent builders never share a half-written file
        trips = directory / f"trips.{token}.xml"
        write_trips(make_trips(network, demand), trips)
        partial = directory / f"routes.{token}.xml"
        produce(
            [
                sumo_binary("duarouter"),
                "--net-file", str(network.net_file),
                "--route-files", str(trips),
                "--output-file", str(partial),
                "--seed", str(demand.seed),
                "--no-step-log", "true",
                "--no-warnings", "true",
                "--ignore-errors", "true",
            ],
            partial,
            routes,
            (trips, directory / f"routes.{token}.alt.xml"),
        )  # fmt: skip
    return routes
