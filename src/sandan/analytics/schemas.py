"""API shapes of analytics, made for pages: every group carries the same fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class OeeOut(BaseModel):
    machine_id: int
    start: datetime
    end: datetime
    availability: float
    performance: float
    quality: float
    oee: float
    losses: dict[str, float]
    planned_busy_time: float
    actual_production_time: float
    produced_quantity: float
    good_quantity: float
    ideal_cycle_s: float | None
    ideal_cycle_estimated: bool
    seconds_in_state: dict[str, float]


class OeeGroup(BaseModel):
    """One group (or the total): ratios, losses and times in seconds, units, energy."""

    key: str = Field(description="machine id, line id, YYYY-MM-DD, HH:00 or 'all'")
    label: str
    machine_id: int | None
    line_id: int | None
    day: date | None = Field(description="the production day (it begins with the first shift)")
    shift: str | None = Field(description="the shift's start, HH:00")
    machines: int
    availability: float
    performance: float
    quality: float
    oee: float
    losses: dict[str, float] = Field(description="the six big losses, seconds")
    planned_busy_time: float = Field(description="seconds in every state but planned stop")
    actual_production_time: float = Field(description="seconds running")
    ideal_time: float = Field(description="ideal cycle time x produced, seconds")
    produced: float
    good: float
    rejects: float
    kwh: float | None = Field(description="None when no machine in the group has a power tag")
    kwh_per_good_unit: float | None
    seconds_in_state: dict[str, float] = Field(
        description="0 planned stop, 1 running, 2 idle, 3 down, 4 changeover"
    )
    ideal_cycle_s: float | None = Field(description="per machine group: seconds per unit")
    ideal_cycle_estimated: bool


class OeeReport(BaseModel):
    scope: Literal["company", "line"]
    scope_id: int
    start: datetime
    end: datetime
    group_by: Literal["none", "machine", "line", "day", "shift", "day_shift"]
    timezone: str
    shifts: list[str]
    machines: int
    total: OeeGroup
    groups: list[OeeGroup]


class DowntimeEventOut(BaseModel):
    id: int
    company_id: int
    machine_id: int
    machine_label: str
    line_id: int | None
    state: int
    state_name: str
    started_at: datetime
    ended_at: datetime
    duration_s: float
    ongoing: bool
    reason: str | None
    reason_label: str | None
    note: str
    reason_by: str
    reason_at: datetime | None


class ReasonTotal(BaseModel):
    reason: str | None
    reason_label: str | None
    state: int
    state_name: str
    events: int
    seconds: float


class DowntimePage(BaseModel):
    start: datetime
    end: datetime
    items: list[DowntimeEventOut]
    total: int
    limit: int
    offset: int
    by_reason: list[ReasonTotal] = Field(description="all matching events, longest first")


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, max_length=40, description="a code of the reasons")
    note: str | None = Field(default=None, max_length=500)


class ReasonOut(BaseModel):
    code: str
    label: str
    label_ko: str


class StateRuleIn(BaseModel):
    """Power thresholds for a machine without a state tag: at or above `run_kw` running, at or
    above `idle_kw` idle, below it `off_state`."""

    idle_kw: float = Field(ge=0, allow_inf_nan=False, description="kW; below it: off_state")
    run_kw: float = Field(allow_inf_nan=False, description="kW, above idle_kw; from it: running")
    off_state: Literal["planned_stop", "down"] = Field(
        default="planned_stop", description="the state below idle_kw (0 planned stop, 3 down)"
    )


class StateRuleOut(BaseModel):
    machine_id: int
    company_id: int
    machine_label: str
    idle_kw: float
    run_kw: float
    off_state: Literal["planned_stop", "down"]
    in_effect: bool = Field(
        description="the machine has a power tag and no state tag, so its states come from this"
    )
    updated_at: datetime
