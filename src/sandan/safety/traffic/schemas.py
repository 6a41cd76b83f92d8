"""API shapes of the traffic signals: plans, live phases and controller comparisons."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

NetworkName = Literal["complex", "small"]
PhaseKind = Literal["green", "yellow", "red"]


class PhaseOut(BaseModel):
    """One phase of a programme: how long it lasts and the light of every link."""

    index: int
    duration_s: float
    state: str = Field(description="SUMO state string: one of G g y r per controlled link")
    kind: PhaseKind


class LivePhaseOut(BaseModel):
    """What an adaptive controller is showing at a junction right now."""

    mode: PhaseKind
    phase_index: int = Field(description="the programme phase served, or being moved to")
    state: str
    since_s: float = Field(description="simulation second this state began")


class JunctionOut(BaseModel):
    """A signalised junction and its fixed-time programme."""

    id: str
    zone: int
    program_id: str
    type: str
    cycle_s: float
    phases: list[PhaseOut]
    live: LivePhaseOut | None = None


class SignalsOut(BaseModel):
    """Every signal plan of the complex network, with live phases while a run goes on."""

    network: str
    junctions: list[JunctionOut]
    adaptive_running: bool
    sim_time_s: float | None = None


class ComparisonIn(BaseModel):
    """A fixed-time vs max-pressure comparison to run on one shift change."""

    network: NetworkName = "complex"
    horizon_s: int = Field(3600, ge=300, le=7200, description="departures span this window")
    demand_scale: float = Field(1.0, gt=0, le=3.0, description="1 = a Gumi shift change")
    seed: int = Field(7, ge=0, le=2**31 - 1)
    min_green_s: float = Field(10.0, ge=5, le=60)
    yellow_s: float = Field(3.0, ge=3, le=6)
    all_red_s: float = Field(1.0, ge=0, le=5)
    decision_s: float = Field(5.0, ge=1, le=30)
    pressure_on: Literal["vehicles", "halting"] = Field(
        "halting", description="queue per lane: vehicles standing on it, or all on it"
    )
    webster: bool = Field(False, description="also run SUMO's Webster plan for this demand")


class RunOut(BaseModel):
    """What one controller achieved on the demand."""

    controller: str
    vehicles_loaded: int
    vehicles_departed: int
    vehicles_arrived: int
    arrived_in_horizon: int = Field(description="throughput: trips finished in the window")
    mean_delay_s: float = Field(description="time loss plus wait to enter, per vehicle")
    mean_time_loss_s: float
    mean_depart_delay_s: float
    mean_queue_veh: float = Field(description="halting vehicles per approach lane, mean")
    max_queue_veh: int
    halting_vehicle_s: float
    teleports: int
    end_s: float
    phase_switches: int


class ComparisonOut(BaseModel):
    """Fixed time against max-pressure on the same network, demand and seed."""

    id: str
    started_at: datetime
    finished_at: datetime
    requested_by: str
    request: ComparisonIn
    network: str
    junctions: int
    vehicles: int
    fixed: RunOut
    adaptive: RunOut
    webster: RunOut | None = None
    delay_reduction_pct: float = Field(description="(fixed − adaptive) / fixed delay × 100")
    queue_reduction_pct: float
    throughput_change_pct: float


class ComparisonState(BaseModel):
    """The last comparison, and whether one is running now."""

    running: bool
    last: ComparisonOut | None = None
