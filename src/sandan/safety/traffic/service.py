"""Rules of the traffic signals, for the API and the control-centre page.

Signal plans are public infrastructure, not company data: every logged-in user may read
them, and no company scoping applies. Running a comparison is the control centre's job
(`safety:operate`, checked at the route). Networks, routes and the last comparison live as
files under `<data_dir>/traffic`, so they survive a restart and need no table; what an
adaptive run is doing right now is kept in memory, per data directory, for the live view.
"""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandan.core.errors import Conflict
from sandan.core.identity.principal import Principal
from sandan.safety.traffic import schemas
from sandan.safety.traffic.control import Switch, Timing
from sandan.safety.traffic.demand import DemandSpec, build_routes
from sandan.safety.traffic.errors import SimulationFailed
from sandan.safety.traffic.network import COMPLEX, SMALL, Network, NetworkSpec, build_network
from sandan.safety.traffic.network import zone_of as _zone_of
from sandan.safety.traffic.plans import read_programmes, webster_plan
from sandan.safety.traffic.run import SIMULATION_ERRORS, RunResult, Scenario, run_scenario
from sandan.settings import Settings

SPECS: dict[str, NetworkSpec] = {"complex": COMPLEX, "small": SMALL}
# The small network's shift change: one gate road per side, so a quarter-sized crowd.
DEMANDS: dict[str, DemandSpec] = {
    "complex": DemandSpec(),
    "small": DemandSpec(commuters_in=420, commuters_out=330, trucks_per_hour=60.0),
}


@dataclass
class LiveBoard:
    """One data directory's running comparison: the lock that keeps it single, and the
    phases its adaptive controller shows now."""

    run_lock: threading.Lock = field(default_factory=threading.Lock)
    guard: threading.Lock = field(default_factory=threading.Lock)
    network: str | None = None
    sim_time_s: float | None = None
    phases: dict[str, Switch] = field(default_factory=dict)

    def begin(self, network: str) -> None:
        with self.guard:
            self.network, self.sim_time_s, self.phases = network, 0.0, {}

    def update(self, time: float, phases: dict[str, Switch]) -> None:
        with self.guard:
            self.sim_time_s, self.phases = time, phases

    def end(self) -> None:
        with self.guard:
            self.network, self.sim_time_s, self.phases = None, None, {}

    def snapshot(self) -> tuple[str | None, float | None, dict[str, Switch]]:
        with self.guard:
            return self.network, self.sim_time_s, dict(self.phases)


_BOARDS: dict[Path, LiveBoard] = {}
_BOARDS_GUARD = threading.Lock()
_BUILD = threading.Lock()  # one netconvert/duarouter at a time in this process


def live_board(settings: Settings) -> LiveBoard:
    """The live state of this data directory's traffic runs (one per process)."""
    key = Path(settings.data_dir).resolve()
    with _BOARDS_GUARD:
        return _BOARDS.setdefault(key, LiveBoard())


def traffic_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "traffic"


def network(settings: Settings, name: str = "complex") -> Network:
    """The compiled network of that name, built on first use."""
    try:
        with _BUILD:
            return build_network(SPECS[name], traffic_dir(settings))
    except (subprocess.SubprocessError, OSError) as exc:
        raise SimulationFailed(f"netconvert could not build the {name} network: {exc}") from exc


def _zone(spec: NetworkSpec, junction: str) -> int:
    match = re.fullmatch(r"J(\d+)_(\d+)", junction)
    return _zone_of(spec, int(match.group(1)), int(match.group(2))) if match else 0


def signal_plans(settings: Settings, name: str = "complex") -> schemas.SignalsOut:
    """Every junction's fixed-time programme, and the adaptive controller's live phase at
    each while a comparison runs on this network."""
    net = network(settings, name)
    live_network, sim_time, phases = live_board(settings).snapshot()
    running = live_network == net.spec.key()
    junctions = []
    for jid, (program, kind, plan) in read_programmes(net.net_file).items():
        now = phases.get(jid) if running else None
        junctions.append(
            schemas.JunctionOut(
                id=jid,
                zone=_zone(net.spec, jid),
                program_id=program,
                type=kind,
                cycle_s=sum(p.duration_s for p in plan),
                phases=[
                    schemas.PhaseOut(
                        index=p.index, duration_s=p.duration_s, state=p.state, kind=p.kind
                    )
                    for p in plan
                ],
                live=None
                if now is None
                else schemas.LivePhaseOut(
                    mode=now.mode, phase_index=now.phase_index, state=now.state, since_s=now.time
                ),
            )
        )
    return schemas.SignalsOut(
        network=net.spec.key(),
        junctions=junctions,
        adaptive_running=running,
        sim_time_s=sim_time if running else None,
    )


def _run_out(result: RunResult) -> schemas.RunOut:
    fields = {k: v for k, v in vars(result).items() if k not in ("junctions", "switches")}
    return schemas.RunOut(**fields, phase_switches=len(result.switches))


def _reduction(before: float, after: float) -> float:
    return round(100.0 * (before - after) / before, 2) if before > 0 else 0.0


def _last_file(settings: Settings) -> Path:
    return traffic_dir(settings) / "comparison.json"


def last_comparison(settings: Settings) -> schemas.ComparisonState:
    """The last comparison run on this platform, and whether one is running now."""
    path = _last_file(settings)
    last = schemas.ComparisonOut.model_validate_json(path.read_text()) if path.exists() else None
    return schemas.ComparisonState(running=live_board(settings).run_lock.locked(), last=last)


def run_comparison(
    settings: Settings, principal: Principal, request: schemas.ComparisonIn
) -> schemas.ComparisonOut:
    """Fixed time against max-pressure (and Webster if asked) on one shift change, in the
    real SUMO; blocks for the runs, so call it off the event loop. One at a time."""
    board = live_board(settings)
    if not board.run_lock.acquire(blocking=False):
        raise Conflict("a traffic comparison is already running; try again when it ends")
    try:
        return _compare(settings, principal, request, board)
    finally:
        board.run_lock.release()


def _compare(
    settings: Settings,
    principal: Principal,
    request: schemas.ComparisonIn,
    board: LiveBoard,
) -> schemas.ComparisonOut:
    started = datetime.now(UTC)
    net = network(settings, request.network)
    demand = DEMANDS[request.network].scaled(request.horizon_s, request.demand_scale, request.seed)
    timing = Timing(
        request.min_green_s,
        request.yellow_s,
        request.all_red_s,
        request.decision_s,
        request.pressure_on,
    )
    try:
        with _BUILD:
            routes = build_routes(net, demand)
            webster = (
                webster_plan(net, routes, round(request.yellow_s), round(request.min_green_s))
                if request.webster
                else None
            )
        scenario = Scenario(net, routes, request.horizon_s, seed=request.seed, webster=webster)
        fixed = run_scenario(scenario, "fixed")
        webster_run = run_scenario(scenario, "webster") if webster is not None else None
        board.begin(net.spec.key())
        try:
            adaptive = run_scenario(scenario, "max_pressure", timing, live=board.update)
        finally:
            board.end()
    except SIMULATION_ERRORS as exc:
        raise SimulationFailed(f"SUMO could not run the comparison: {exc}") from exc
    out = schemas.ComparisonOut(
        id=uuid.uuid4().hex,
        started_at=started,
        finished_at=datetime.now(UTC),
        requested_by=principal.actor,
        request=request,
        network=net.spec.key(),
        junctions=len(fixed.junctions),
        vehicles=fixed.vehicles_loaded,
        fixed=_run_out(fixed),
        adaptive=_run_out(adaptive),
        webster=None if webster_run is None else _run_out(webster_run),
        delay_reduction_pct=_reduction(fixed.mean_delay_s, adaptive.mean_delay_s),
        queue_reduction_pct=_reduction(fixed.mean_queue_veh, adaptive.mean_queue_veh),
        throughput_change_pct=-_reduction(fixed.arrived_in_horizon, adaptive.arrived_in_horizon),
    )
    path = _last_file(settings)
    partial = path.with_name(f"comparison.{out.id}.json")
    partial.write_text(out.model_dump_json(indent=1))
    partial.replace(path)  # readers see the old result or the new one, never half of one
    return out


def panel(settings: Settings) -> dict[str, Any]:
    """The control-centre traffic panel: junctions, a summary of each plan, whether an
    adaptive run is live, and the last comparison's delay fixed vs adaptive."""
    plans = signal_plans(settings)
    state = last_comparison(settings)
    last = state.last
    return {
        "network": plans.network,
        "junctions": len(plans.junctions),
        "adaptive_running": plans.adaptive_running or state.running,
        "plans": [
            {
                "id": j.id,
                "zone": j.zone,
                "cycle_s": j.cycle_s,
                "greens_s": [p.duration_s for p in j.phases if p.kind == "green"],
                "live_phase": None if j.live is None else j.live.phase_index,
            }
            for j in plans.junctions
        ],
        "last": None
        if last is None
        else {
            "at": last.finished_at.isoformat(),
            "network": last.network,
            "vehicles": last.vehicles,
            "fixed_delay_s": round(last.fixed.mean_delay_s, 1),
            "adaptive_delay_s": round(last.adaptive.mean_delay_s, 1),
            "delay_reduction_pct": last.delay_reduction_pct,
            "fixed_mean_queue_veh": round(last.fixed.mean_queue_veh, 2),
            "adaptive_mean_queue_veh": round(last.adaptive.mean_queue_veh, 2),
            "fixed_throughput": last.fixed.arrived_in_horizon,
            "adaptive_throughput": last.adaptive.arrived_in_horizon,
        },
    }
