"""Run one scenario in the real `sumo` over TraCI and measure it.

Both controllers run the same way (same network, routes, seed, step and measuring), so the
only difference is who sets the lights: SUMO's static programme, or max-pressure. Queues are
read through TraCI subscriptions (one batch per step, not a call per lane); delays come from
SUMO's own trip info, written for unfinished vehicles too, so a run that leaves cars stuck
is not flattered by leaving them out.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import traci
import traci.constants as tc
from traci.exceptions import FatalTraCIError, TraCIException

from sandan.safety.traffic.control import (
    Junction,
    MaxPressure,
    Switch,
    Timing,
    junctions_from_traci,
)
from sandan.safety.traffic.network import Network, sumo_binary

Controller = Literal["fixed", "webster", "max_pressure"]
# What a run raises when SUMO itself fails: it would not start, died, or refused a command.
SIMULATION_ERRORS = (subprocess.SubprocessError, OSError, TraCIException, FatalTraCIError)
Live = Callable[[float, dict[str, Switch]], None]


@dataclass(frozen=True)
class Scenario:
    """A compiled network with its routes; vehicles depart within `horizon_s`, and the run
    goes on up to `drain_s` more for the network to empty."""

    network: Network
    routes: Path
    horizon_s: int
    drain_s: int = 1800
    seed: int = 7
    webster: Path | None = None  # the Webster plan's additional file, for that controller


@dataclass
class RunResult:
    """What one run measured."""

    controller: Controller
    vehicles_loaded: int
    vehicles_departed: int
    vehicles_arrived: int
    arrived_in_horizon: int
    mean_delay_s: float  # time loss + waiting to enter, per vehicle
    mean_time_loss_s: float
    mean_depart_delay_s: float
    mean_queue_veh: float  # halting vehicles per signalised approach lane, time average
    max_queue_veh: int  # the longest queue seen on one approach lane
    halting_vehicle_s: float  # Σ over steps of halting vehicles on the approaches
    teleports: int
    end_s: float
    junctions: list[Junction] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody holds right now, for one SUMO server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _trip_delays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Time loss and depart delay of every vehicle in a tripinfo file (unfinished too)."""
    loss, wait = [], []
    for _event, el in ET.iterparse(path):
        if el.tag == "tripinfo":
            loss.append(float(el.get("timeLoss", 0)))
            wait.append(float(el.get("departDelay", 0)))
        el.clear()
    return np.array(loss), np.array(wait)


def _command(scenario: Scenario, controller: Controller, tripinfo: Path) -> list[str]:
    plan = []
    if controller == "webster":
        if scenario.webster is None:
            raise ValueError("a Webster run needs the scenario's Webster plan")
        plan = ["--additional-files", str(scenario.webster)]  # its programme becomes active
    return [
        sumo_binary("sumo"),
        *plan,
        "--net-file", str(scenario.network.net_file),
        "--route-files", str(scenario.routes),
        "--step-length", "1",
        "--seed", str(scenario.seed),
        "--end", str(scenario.horizon_s + scenario.drain_s),
        "--time-to-teleport", "300",
        "--tripinfo-output", str(tripinfo),
        "--tripinfo-output.write-unfinished", "true",
        "--no-step-log", "true",
        "--no-warnings", "true",
        "--duration-log.disable", "true",
    ]  # fmt: skip


@dataclass
class _Meter:
    """Running totals of one simulation, fed once per step."""

    approaches: int
    horizon_s: float
    totals: np.ndarray = field(default_factory=lambda: np.zeros(4, np.int64))
    arrived_in_horizon: int = 0
    halting_sum: float = 0.0
    max_queue: int = 0
    steps: int = 0

    def count(self, loaded: int, departed: int, arrived: int, teleports: int) -> None:
        self.totals += (loaded, departed, arrived, teleports)

    def step(self, time: float, halting: np.ndarray) -> None:
        if time <= self.horizon_s:
            self.arrived_in_horizon = int(self.totals[2])
        queue = halting[: self.approaches]
        self.halting_sum += float(queue.sum())
        self.max_queue = max(self.max_queue, int(queue.max(initial=0)))
        self.steps += 1


def run_scenario(
    scenario: Scenario,
    controller: Controller,
    timing: Timing | None = None,
    live: Live | None = None,
) -> RunResult:
    """Simulate the scenario under one controller and measure delay, queues, throughput."""
    label = f"sandan-{controller}-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="sandan-sumo-") as tmp:
        tripinfo = Path(tmp) / "tripinfo.xml"
        # A label per run and no switch of traci's "current" connection: runs in other
        # threads keep their own SUMO.
        try:
            traci.start(
                _command(scenario, controller, tripinfo),
                port=free_port(),
                label=label,
                stdout=subprocess.DEVNULL,
                doSwitch=False,
            )
            conn = traci.getConnection(label)
            junctions, meter, end, switches = _simulate(conn, scenario, controller, timing, live)
        finally:
            _close(label)
        loss, wait = _trip_delays(tripinfo)
    delay = loss + wait
    return RunResult(
        controller=controller,
        vehicles_loaded=int(meter.totals[0]),
        vehicles_departed=int(meter.totals[1]),
        vehicles_arrived=int(meter.totals[2]),
        arrived_in_horizon=meter.arrived_in_horizon,
        mean_delay_s=float(delay.mean()) if delay.size else 0.0,
        mean_time_loss_s=float(loss.mean()) if loss.size else 0.0,
        mean_depart_delay_s=float(wait.mean()) if wait.size else 0.0,
        mean_queue_veh=meter.halting_sum / max(meter.steps * meter.approaches, 1),
        max_queue_veh=meter.max_queue,
        halting_vehicle_s=meter.halting_sum,
        teleports=int(meter.totals[3]),
        end_s=end,
        junctions=junctions,
        switches=switches,
    )


def _simulate(
    conn: Any,
    scenario: Scenario,
    controller: Controller,
    timing: Timing | None,
    live: Live | None,
) -> tuple[list[Junction], _Meter, float, list[Switch]]:
    """Step SUMO until the network empties after the horizon (or the drain runs out)."""
    halting_var, vehicles_var = tc.LAST_STEP_VEHICLE_HALTING_NUMBER, tc.LAST_STEP_VEHICLE_NUMBER
    junctions = junctions_from_traci(conn)
    approaches = sorted({lane for j in junctions for lane in j.link_in if lane})
    downstream = {lane for j in junctions for lane in j.link_out if lane} - set(approaches)
    lanes = approaches + sorted(downstream)
    for lane in lanes:
        conn.lane.subscribe(lane, [halting_var, vehicles_var])
    counters = [
        tc.VAR_LOADED_VEHICLES_NUMBER,
        tc.VAR_DEPARTED_VEHICLES_NUMBER,
        tc.VAR_ARRIVED_VEHICLES_NUMBER,
        tc.VAR_TELEPORT_STARTING_VEHICLES_NUMBER,
    ]
    conn.simulation.subscribe([*counters, tc.VAR_MIN_EXPECTED_VEHICLES])
    meter = _Meter(len(approaches), float(scenario.horizon_s))
    sim = conn.simulation.getSubscriptionResults()  # what loaded before the first step
    meter.count(*(int(sim[v]) for v in counters))
    ctl = (
        MaxPressure(junctions, lanes, timing or Timing()) if controller == "max_pressure" else None
    )
    switches = [] if ctl is None else _apply(conn, ctl.start(0.0))
    pressure_var = (
        halting_var if ctl is None or ctl.timing.pressure_on == "halting" else vehicles_var
    )
    end, time = float(scenario.horizon_s + scenario.drain_s), 0.0
    while time < end:
        conn.simulationStep()
        time = float(conn.simulation.getTime())
        sim = conn.simulation.getSubscriptionResults()
        meter.count(*(int(sim[v]) for v in counters))
        per_lane = conn.lane.getAllSubscriptionResults()
        halting = np.fromiter((per_lane[ln][halting_var] for ln in lanes), np.int64, len(lanes))
        meter.step(time, halting)
        if ctl is not None:
            queue = halting
            if pressure_var != halting_var:
                queue = np.fromiter(
                    (per_lane[ln][pressure_var] for ln in lanes), np.int64, len(lanes)
                )
            switches += _apply(conn, ctl.step(time, queue))
            if live is not None and meter.steps % 5 == 0:
                live(time, ctl.current())
        if int(sim[tc.VAR_MIN_EXPECTED_VEHICLES]) == 0 and time >= scenario.horizon_s:
            break
    return junctions, meter, time, switches


def _close(label: str) -> None:
    """Close the run's connection and wait for its SUMO. Also when SUMO quit first: traci
    keeps a connection it could not finish opening, and a close that fails on the dead socket
    has dropped the socket, so a second close completes."""
    for _attempt in range(2):
        if not traci.connection.has(label):
            return
        with contextlib.suppress(*SIMULATION_ERRORS):
            traci.getConnection(label).close()


def _apply(conn: Any, switches: list[Switch]) -> list[Switch]:
    """Set each asked-for state on its traffic light; SUMO holds it until the next one."""
    for sw in switches:
        conn.trafficlight.setRedYellowGreenState(sw.junction, sw.state)
    return switches
