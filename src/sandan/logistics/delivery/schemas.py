"""API shapes of joint delivery. Times of day are local (the plant's time zone)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sandan.core.types import DbId

Plate = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^\S(.*\S)?$")]
Kg = Annotated[float, Field(gt=0, le=60_000)]
M3 = Annotated[float, Field(gt=0, le=200)]


def _local(value: time) -> time:
    """A time of day here is the plant's; "08:00Z" would be a second, conflicting zone."""
    if value.tzinfo is not None:
        raise ValueError("a local time of day, without a zone (the plant's time zone)")
    return value


LocalTime = Annotated[time, AfterValidator(_local)]


class VehicleIn(BaseModel):
    """A truck added to the shared fleet."""

    model_config = ConfigDict(extra="forbid")

    plate: Plate
    capacity_kg: Kg
    capacity_m3: M3 | None = None
    shift_start: LocalTime = time(8, 0)
    shift_end: LocalTime = time(18, 0)
    cost_per_km: int = Field(default=1000, ge=1, le=100_000, description="KRW per km")
    active: bool = True

    @model_validator(mode="after")
    def _shift(self) -> VehicleIn:
        if self.shift_end <= self.shift_start:
            raise ValueError("shift_end must be after shift_start")
        return self


class VehiclePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: Plate | None = None
    capacity_kg: Kg | None = None
    capacity_m3: M3 | None = None
    shift_start: LocalTime | None = None
    shift_end: LocalTime | None = None
    cost_per_km: int | None = Field(default=None, ge=1, le=100_000)
    active: bool | None = None


class VehicleOut(BaseModel):
    id: int
    plate: str
    capacity_kg: float
    capacity_m3: float | None
    shift_start: str
    shift_end: str
    cost_per_km: int
    active: bool


class StopIn(BaseModel):
    """A delivery entered for the joint run (warehouse shipments join on their own)."""

    model_config = ConfigDict(extra="forbid")

    owner_company_id: DbId | None = Field(default=None, description="the operator names it")
    warehouse_id: DbId
    ref: str = Field(default="", max_length=40)
    ship_to: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    window_start: datetime = Field(description="without a zone: the plant's local time")
    window_end: datetime
    service_min: int = Field(default=10, ge=1, le=240)
    weight_kg: float = Field(default=0.0, ge=0, le=60_000)
    volume_m3: float = Field(default=0.0, ge=0, le=200)

    @model_validator(mode="after")
    def _window(self) -> StopIn:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if (self.window_end - self.window_start).total_seconds() > 86_400:
            raise ValueError("a window is at most a day long")
        return self


class StopOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_company_id: int
    warehouse_id: int
    shipment_id: int | None
    day: date
    ref: str
    ship_to: str
    address: str
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    service_min: int
    weight_kg: float
    volume_m3: float
    status: str


class PlanIn(BaseModel):
    """Plan (or re-plan) one warehouse's deliveries of a day."""

    model_config = ConfigDict(extra="forbid")

    warehouse_id: DbId
    day: date
    opens: LocalTime = Field(default=time(8, 0), description="the depot's gate opens")
    closes: LocalTime = Field(default=time(18, 0))
    time_limit_s: float | None = Field(
        default=None, gt=0, le=300, description="search budget; default grows with the stops"
    )
    quick: bool = Field(default=False, description="greedy descent: stops at a local optimum")
    warm_start: bool = Field(default=True, description="start from the day's previous plan")
    road_factor: float = Field(default=1.3, ge=1.0, le=3.0)
    speed_kmh: float = Field(default=30.0, ge=5, le=120)

    @model_validator(mode="after")
    def _hours(self) -> PlanIn:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class PlannedStopOut(BaseModel):
    stop_id: int
    owner_company_id: int
    ref: str
    ship_to: str
    address: str
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    weight_kg: float
    volume_m3: float
    position: int | None
    arrival_at: datetime | None
    start_at: datetime | None
    departure_at: datetime | None
    dropped_reason: str | None
    dropped_detail: str


class RouteOut(BaseModel):
    """A vehicle's tour; a tenant sees only its own stops and not the truck's totals."""

    id: int
    seq: int
    plate: str
    vehicle_id: int | None
    depart_at: datetime | None
    return_at: datetime | None
    distance_m: int | None
    cost: int | None
    weight_kg: float | None
    volume_m3: float | None
    stops: list[PlannedStopOut]


class PlanSummary(BaseModel):
    """A plan's head; totals are the operator's (None for a tenant)."""

    id: int
    warehouse_id: int
    day: date
    version: int
    created_at: datetime
    warm_started: bool
    quick: bool
    solver_status: str
    solve_seconds: float
    time_limit_s: float
    cost: int | None
    distance_m: int | None
    objective: int | None
    start_objective: int | None
    stops_total: int | None
    stops_dropped: int | None
    vehicles_used: int | None


class Depot(BaseModel):
    name: str
    lat: float
    lon: float
    opens: str
    closes: str


class PlanOut(PlanSummary):
    depot: Depot
    routes: list[RouteOut]
    dropped: list[PlannedStopOut]
