"""Signal control: the static programmes as SUMO runs them, and max-pressure over TraCI.

Max-pressure (Varaiya 2013) gives green to the phase whose movements carry the most queue
upstream minus queue downstream, so the outflow goes where the network has room. SUMO has
no built-in max-pressure, so it is done here: the controller owns each junction's signal
state. It keeps every green for at least `min_green_s`, decides only every `decision_s`,
and never cuts a green straight to another: the movements that lose green show yellow for
`yellow_s`, then red for `all_red_s`, as the static programme's yellow does. The logic is
pure (queues in, states out) so it can be tested without SUMO; `run.py` feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Mode = Literal["green", "yellow", "red"]


@dataclass(frozen=True)
class Timing:
    """The safety limits an adaptive controller must respect, and what it counts as queue:
    every vehicle on a lane (Varaiya's store-and-forward queue: each will need the green) or
    only those standing (they react later to a platoon on its way)."""

    min_green_s: float = 10.0
    yellow_s: float = 3.0
    all_red_s: float = 1.0
    decision_s: float = 5.0
    pressure_on: Literal["vehicles", "halting"] = "halting"


@dataclass(frozen=True)
class Phase:
    """One phase of a junction's programme, as SUMO states it."""

    index: int
    duration_s: float
    state: str

    @property
    def kind(self) -> Mode:
        if "y" in self.state.lower():
            return "yellow"
        return "green" if any(ch in "Gg" for ch in self.state) else "red"


@dataclass(frozen=True)
class Junction:
    """A signalised junction: its programme and its links (link i: in lane → out lane)."""

    id: str
    program_id: str
    phases: tuple[Phase, ...]
    link_in: tuple[str, ...]
    link_out: tuple[str, ...]

    @property
    def greens(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.kind == "green")


def junctions_from_traci(conn: Any) -> list[Junction]:
    """Read every traffic light's active programme and controlled links from a running SUMO."""
    found = []
    for tls in sorted(conn.trafficlight.getIDList()):
        program = conn.trafficlight.getProgram(tls)
        logic = next(
            lg for lg in conn.trafficlight.getAllProgramLogics(tls) if lg.programID == program
        )
        phases = tuple(
            Phase(i, float(p.duration), str(p.state)) for i, p in enumerate(logic.phases)
        )
        links = conn.trafficlight.getControlledLinks(tls)
        link_in = tuple(str(lk[0][0]) if lk else "" for lk in links)
        link_out = tuple(str(lk[0][1]) if lk else "" for lk in links)
        found.append(Junction(tls, str(program), phases, link_in, link_out))
    return found


@dataclass
class _Signal:
    """Where one junction is in its green → yellow → red → green cycle."""

    junction: Junction
    green: int  # position in junction.greens being served (or, in transition, left)
    mode: Mode = "green"
    since: float = 0.0
    target: int = 0
    state: str = ""


@dataclass(frozen=True)
class Switch:
    """A change of signal state the controller asks for, and what it logs."""

    time: float
    junction: str
    mode: Mode
    phase_index: int  # the programme phase served (green) or being moved to
    state: str


def _transition(a: str, b: str, fill: str) -> str:
    """The state between green `a` and green `b`: links losing green show `fill`; links green
    in both keep `b`'s right of way."""
    out = []
    for ca, cb in zip(a, b, strict=True):
        if ca in "Gg" and cb in "Gg":
            out.append(cb)
        elif ca in "Gg":
            out.append(fill)
        else:
            out.append("r")
    return "".join(out)


@dataclass
class MaxPressure:
    """Max-pressure with minimum green over every signalised junction of a network."""

    junctions: list[Junction]
    lanes: list[str]  # the lane order of the halting-vehicle arrays fed to `step`
    timing: Timing = field(default_factory=Timing)

    def __post_init__(self) -> None:
        index = {lane: i for i, lane in enumerate(self.lanes)}
        self._signals = [_Signal(j, 0, state=j.greens[0].state) for j in self.junctions]
        # One matrix over all junctions: rows are green phases, columns are links; the
        # pressure of every phase is then one product per decision.
        ins, outs, rows, cols, self._slices = [], [], [], [], []
        link0 = row0 = 0
        for j in self.junctions:
            for k, (a, b) in enumerate(zip(j.link_in, j.link_out, strict=True)):
                ins.append(index.get(a, -1))
                outs.append(index.get(b, -1))
                for g, phase in enumerate(j.greens):
                    if phase.state[k] in "Gg":
                        rows.append(row0 + g)
                        cols.append(link0 + k)
            self._slices.append(slice(row0, row0 + len(j.greens)))
            link0 += len(j.link_in)
            row0 += len(j.greens)
        self._in = np.array(ins, np.int64)
        self._out = np.array(outs, np.int64)
        self._serves = np.zeros((row0, link0))
        self._serves[rows, cols] = 1.0
        self._next_decision = 0.0

    def start(self, time: float) -> list[Switch]:
        """Every junction starts in its first green."""
        return [self._set(s, time, "green", 0, s.junction.greens[0].state) for s in self._signals]

    def pressures(self, halting: np.ndarray) -> np.ndarray:
        """Pressure of every green phase: Σ over its links of queue in − queue out."""
        padded = np.append(halting.astype(float), 0.0)  # index -1: a lane we do not see
        phase_pressure: np.ndarray = self._serves @ (padded[self._in] - padded[self._out])
        return phase_pressure

    def step(self, time: float, halting: np.ndarray) -> list[Switch]:
        """Advance to `time` with the current halting count per lane; the state changes."""
        switches: list[Switch] = []
        t = self.timing
        decide = time >= self._next_decision
        pressure = self.pressures(halting) if decide else None
        if decide:  # on a fixed grid of decision instants, whatever the step length
            self._next_decision = float(np.floor(time / t.decision_s) + 1) * t.decision_s
        for s, rows in zip(self._signals, self._slices, strict=True):
            greens = s.junction.greens
            held = time - s.since
            if s.mode == "yellow" and held >= t.yellow_s:
                if t.all_red_s > 0:
                    red = _transition(greens[s.green].state, greens[s.target].state, "r")
                    switches.append(self._set(s, time, "red", s.target, red))
                else:
                    switches.append(self._go(s, time))
            elif s.mode == "red" and held >= t.all_red_s:
                switches.append(self._go(s, time))
            elif s.mode == "green" and pressure is not None and held >= t.min_green_s:
                mine = pressure[rows]
                best = int(np.argmax(mine))
                if best != s.green and mine[best] > mine[s.green]:
                    s.target = best
                    yellow = _transition(greens[s.green].state, greens[best].state, "y")
                    switches.append(self._set(s, time, "yellow", best, yellow))
        return switches

    def _go(self, s: _Signal, time: float) -> Switch:
        s.green = s.target
        return self._set(s, time, "green", s.target, s.junction.greens[s.target].state)

    def _set(self, s: _Signal, time: float, mode: Mode, green: int, state: str) -> Switch:
        s.mode, s.since, s.state = mode, time, state
        if mode == "green":
            s.green = s.target = green
        return Switch(time, s.junction.id, mode, s.junction.greens[green].index, state)

    def current(self) -> dict[str, Switch]:
        """Each junction's present state, for the live view of the signal plans."""
        return {
            s.junction.id: Switch(
                s.since, s.junction.id, s.mode, s.junction.greens[s.target].index, s.state
            )
            for s in self._signals
        }


def green_intervals(log: list[Switch]) -> list[tuple[str, float, float]]:
    """(junction, start, length) of every green in a switch log; the last one of each
    junction is cut by the end of the run, so it is left out."""
    last: dict[str, Switch] = {}
    out = []
    for sw in log:
        prev = last.get(sw.junction)
        if prev is not None and prev.mode == "green":
            out.append((sw.junction, prev.time, sw.time - prev.time))
        last[sw.junction] = sw
    return out
