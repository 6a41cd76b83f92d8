"""The road network of the complex: a grid of signalised junctions, written as SUMO plain XML
and compiled by the real `netconvert`, so the static signal programmes are SUMO's own.

A Gumi-like layout: four zones (the quadrants of the grid), two arterials through the middle
(two lanes each way, 60 km/h), one-lane estate roads (50 km/h) between the factory blocks,
and a gate road at every edge of the grid where the complex meets the city. Everything is
deterministic: the same spec gives the same files, kept under one directory named by the
spec so a second call reuses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

SIDES = ("W", "S", "E", "N")  # gate roads to the city, by side of the grid


def sumo_binary(name: str) -> str:
    """The path of one SUMO program shipped in the `eclipse-sumo` wheel."""
    import sumo

    return str(Path(sumo.SUMO_HOME) / "bin" / name)


def produce(command: list[str], partial: Path, final: Path, scratch: tuple[Path, ...] = ()) -> None:
    """Run a SUMO tool that writes `partial`, then move that to `final`: only a complete file
    is ever seen under its name, and the scratch files go whatever happens."""
    import sumo

    try:
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "SUMO_HOME": sumo.SUMO_HOME},
        )
        partial.replace(final)
    finally:
        for leftover in (partial, *scratch):
            leftover.unlink(missing_ok=True)


@dataclass(frozen=True)
class NetworkSpec:
    """The shape of a grid network; `size` junctions per side."""

    size: int = 4
    spacing_m: float = 300.0
    gate_road_m: float = 250.0
    arterial_lanes: int = 2
    local_lanes: int = 1
    arterial_speed: float = 16.67  # 60 km/h
    local_speed: float = 13.89  # 50 km/h
    cycle_s: int = 90  # the fixed-time cycle netconvert lays the static programmes on
    yellow_s: int = 3

    def key(self) -> str:
        """A short stable name for the files of this spec."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
        return f"grid{self.size}-{digest[:10]}"

    def arterial(self, index: int) -> bool:
        """Whether row or column `index` is one of the two arterials through the middle."""
        return self.size >= 3 and index == self.size // 2


COMPLEX = NetworkSpec()
SMALL = NetworkSpec(size=2, spacing_m=200.0, gate_road_m=200.0, arterial_lanes=1)


@dataclass(frozen=True)
class Network:
    """A compiled network and what the demand needs to know about it."""

    spec: NetworkSpec
    net_file: Path
    entries: dict[str, list[str]]  # side -> edges leading into the complex
    exits: dict[str, list[str]]  # side -> edges leading out to the city
    gates: dict[int, list[str]]  # zone 1..4 -> inner edges with factory gates

    @property
    def directory(self) -> Path:
        return self.net_file.parent


def _node(nid: str, x: float, y: float, kind: str) -> str:
    return f'  <node id="{nid}" x="{x:.1f}" y="{y:.1f}" type="{kind}"/>'


def _edge(eid: str, a: str, b: str, lanes: int, speed: float) -> str:
    return (
        f'  <edge id={quoteattr(eid)} from="{a}" to="{b}" numLanes="{lanes}" '
        f'speed="{speed:.2f}" priority="{2 if lanes > 1 else 1}"/>'
    )


def zone_of(spec: NetworkSpec, row: int, col: int) -> int:
    """Zone 1..4 of a junction: the quadrants, 1 south-west (next to the city), counter-
    clockwise."""
    half = spec.size / 2
    south, west = row < half, col < half
    return {(True, True): 1, (True, False): 2, (False, False): 3, (False, True): 4}[(south, west)]


def _plain_xml(spec: NetworkSpec) -> tuple[str, str, Network]:
    n, sp, gate = spec.size, spec.spacing_m, spec.gate_road_m
    nodes, edges = [], []
    entries: dict[str, list[str]] = {s: [] for s in SIDES}
    exits: dict[str, list[str]] = {s: [] for s in SIDES}
    gates: dict[int, list[str]] = {z: [] for z in (1, 2, 3, 4)}
    for r in range(n):
        for c in range(n):
            nodes.append(_node(f"J{r}_{c}", c * sp, r * sp, "traffic_light"))

    def road(a: str, b: str, arterial: bool) -> tuple[str, str]:
        lanes = spec.arterial_lanes if arterial else spec.local_lanes
        speed = spec.arterial_speed if arterial else spec.local_speed
        edges.append(_edge(f"{a}-{b}", a, b, lanes, speed))
        edges.append(_edge(f"{b}-{a}", b, a, lanes, speed))
        return f"{a}-{b}", f"{b}-{a}"

    for r in range(n):
        for c in range(n):
            here = f"J{r}_{c}"
            if c + 1 < n:  # east-west block road, in the zone of its western junction
                forward, back = road(here, f"J{r}_{c + 1}", spec.arterial(r))
                gates[zone_of(spec, r, c)] += [forward, back]
            if r + 1 < n:  # north-south block road
                forward, back = road(here, f"J{r + 1}_{c}", spec.arterial(c))
                gates[zone_of(spec, r, c)] += [forward, back]
    far = (n - 1) * sp + gate
    for i in range(n):
        for side, (x, y), junction, arterial in (
            ("W", (-gate, i * sp), f"J{i}_0", spec.arterial(i)),
            ("E", (far, i * sp), f"J{i}_{n - 1}", spec.arterial(i)),
            ("S", (i * sp, -gate), f"J0_{i}", spec.arterial(i)),
            ("N", (i * sp, far), f"J{n - 1}_{i}", spec.arterial(i)),
        ):
            city = f"{side}{i}"
            nodes.append(_node(city, x, y, "priority"))
            inward, outward = road(city, junction, arterial)
            entries[side].append(inward)
            exits[side].append(outward)
    nod = "<nodes>\n" + "\n".join(nodes) + "\n</nodes>\n"
    edg = "<edges>\n" + "\n".join(edges) + "\n</edges>\n"
    return nod, edg, Network(spec, Path("net.net.xml"), entries, exits, gates)


def build_network(spec: NetworkSpec, root: Path) -> Network:
    """Compile the spec with netconvert into `root/<spec key>/net.net.xml` (reused if there);
    the static programmes get the spec's cycle and yellow time."""
    nod, edg, layout = _plain_xml(spec)
    directory = root / spec.key()
    directory.mkdir(parents=True, exist_ok=True)
    net_file = directory / "net.net.xml"
    if not net_file.exists():
        token = uuid.uuid4().hex  # concurrent builders never share a half-written file
        nodes, edges = directory / f"grid.{token}.nod.xml", directory / f"grid.{token}.edg.xml"
        partial = directory / f"net.{token}.xml"
        nodes.write_text(nod)
        edges.write_text(edg)
        produce(
            [
                sumo_binary("netconvert"),
                "--node-files", str(nodes),
                "--edge-files", str(edges),
                "--output-file", str(partial),
                "--no-turnarounds", "true",
                "--tls.default-type", "static",
                "--tls.cycle.time", str(spec.cycle_s),
                "--tls.yellow.time", str(spec.yellow_s),
                "--offset.disable-normalization", "true",
                "--no-warnings", "true",
            ],
            partial,
            net_file,
            (nodes, edges),
        )  # fmt: skip
    return Network(spec, net_file, layout.entries, layout.exits, layout.gates)
