"""API shapes of the alarm engine; field rules live here so bad input is a 422 naming the
field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandan.core.types import DbId

Kind = Literal["gas", "fire", "chemical", "water", "traffic", "cctv", "process"]
Priority = Literal["low", "medium", "high", "critical"]
Op = Literal["<", "<=", ">", ">=", "==", "!="]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
PRIORITIES: tuple[str, ...] = Priority.__args__  # type: ignore[attr-defined]
LIMITS = ("hh", "h", "l", "ll")
Finite = float  # NaN and infinities are refused by the model config below


class Comparison(BaseModel):
    """One test of another tag's latest value, e.g. ventilation fan speed < 1."""

    model_config = ConfigDict(allow_inf_nan=False)

    tag_id: DbId
    op: Op
    value: Finite


class Expression(BaseModel):
    """All (AND) or any (OR) of up to 20 comparisons."""

    all: list[Comparison] | None = Field(default=None, min_length=1, max_length=20)
    any: list[Comparison] | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def one_kind(self) -> Expression:
        if (self.all is None) == (self.any is None):
            raise ValueError("give exactly one of all / any")
        return self


class DefinitionFields(BaseModel):
    """Fields shared by creating and changing a definition (None = unchanged on a patch)."""

    model_config = ConfigDict(allow_inf_nan=False)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = None
    priority: Priority | None = None
    hh: Finite | None = None
    h: Finite | None = None
    l: Finite | None = None  # noqa: E741 - the ISA name of the limit
    ll: Finite | None = None
    roc_per_min: Finite | None = Field(default=None, gt=0)
    deadband: Finite | None = Field(default=None, ge=0)
    on_delay_s: Finite | None = Field(default=None, ge=0, le=86_400)
    off_delay_s: Finite | None = Field(default=None, ge=0, le=86_400)
    latching: bool | None = None
    escalate_after_s: int | None = Field(default=None, ge=1, le=7 * 86_400)
    enabled: bool | None = None
    in_service: bool | None = None
    when: Expression | None = None
    suppress_when: Expression | None = None


class DefinitionIn(DefinitionFields):
    """A new alarm definition on a tag: at least one limit or a rate of change."""

    tag_id: DbId
    name: str = Field(min_length=1, max_length=200)
    kind: Kind = "process"
    priority: Priority = "medium"
    deadband: Finite = Field(default=0.0, ge=0)
    on_delay_s: Finite = Field(default=0.0, ge=0, le=86_400)
    off_delay_s: Finite = Field(default=0.0, ge=0, le=86_400)
    latching: bool = False
    enabled: bool = True
    in_service: bool = True


class DefinitionPatch(DefinitionFields):
    """Changed fields only; send a limit as null in `clear` to remove it."""

    clear: list[
        Literal["hh", "h", "l", "ll", "roc_per_min", "escalate_after_s", "when", "suppress_when"]
    ] = Field(default_factory=list, max_length=8)


class DefinitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    company_id: int
    tag_id: int
    name: str
    kind: str
    priority: str
    hh: float | None
    h: float | None
    l: float | None  # noqa: E741
    ll: float | None
    roc_per_min: float | None
    deadband: float
    on_delay_s: float
    off_delay_s: float
    latching: bool
    escalate_after_s: int | None
    enabled: bool
    in_service: bool
    when: Expression | None
    suppress_when: Expression | None
    lat: float | None
    lon: float | None
    created_at: datetime


class AlarmOut(BaseModel):
    """An alarm as the control centre shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    condition: str
    definition_id: int | None
    company_id: int | None
    kind: str
    priority: str
    message: str
    lat: float | None
    lon: float | None
    state: str
    in_alarm: bool
    acked: bool
    held: bool
    latching: bool
    shelved_until: datetime | None
    shelve_reason: str
    value: float | None
    raised_at: datetime
    first_raised_at: datetime
    last_at: datetime
    acked_at: datetime | None
    acked_by_user_id: int | None
    escalate_after_s: int | None
    closed_at: datetime | None


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500)


class ShelveIn(BaseModel):
    """Shelving is always time-limited (ISA-18.2): at most a week, with a reason."""

    minutes: int = Field(ge=1, le=7 * 24 * 60)
    reason: str = Field(min_length=1, max_length=300)


class ServiceIn(BaseModel):
    out_of_service: bool
    note: str = Field(default="", max_length=500)


class JournalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alarm_id: int
    at: datetime
    event: str
    from_state: str
    to_state: str
    by_user_id: int | None
    note: str


class FloodOut(BaseModel):
    start: datetime
    end: datetime
    alarms: int


class BadActorOut(BaseModel):
    source: str
    condition: str
    alarms: int
    share: float


class KpiOut(BaseModel):
    """Alarm-system performance over a window (EEMUA 191 / ISA-18.2 targets)."""

    start: datetime
    end: datetime
    operators: int
    alarms: int
    per_operator_per_10min_avg: float
    per_operator_per_10min_peak: float
    share_of_10min_over_target: float
    target_per_operator_per_10min: float
    floods: list[FloodOut]
    time_in_flood_share: float
    chattering: list[BadActorOut]
    stale: list[int]
    bad_actors: list[BadActorOut]
    top10_share: float
    priority_distribution: dict[str, float]
