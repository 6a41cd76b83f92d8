"""API shapes of incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandan.core.types import DbId
from sandan.safety.register.schemas import AffectedCompany

IncidentKind = Literal["gas", "fire", "chemical", "water", "traffic", "security", "other"]
KINDS: tuple[str, ...] = get_args(IncidentKind)
Status = Literal["active", "stable", "closed"]
SEVERITY_NAMES = {1: "minor", 2: "moderate", 3: "major", 4: "critical"}
_SEVERITY_BY_NAME = {name: level for level, name in SEVERITY_NAMES.items()}


def _severity(value: Any) -> Any:
    """1-4, or its name: minor, moderate, major, critical."""
    if isinstance(value, str) and value.strip().lower() in _SEVERITY_BY_NAME:
        return _SEVERITY_BY_NAME[value.strip().lower()]
    return value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IncidentIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    kind: IncidentKind
    severity: int = Field(ge=1, le=4, description="1 minor, 2 moderate, 3 major, 4 critical")
    alarm_ids: list[DbId] = Field(default_factory=list, max_length=100)
    commander_id: DbId | None = None  # default: the person who opens it
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=500, gt=0, le=50_000)
    note: str = Field(default="", max_length=4000)

    _names = field_validator("severity", mode="before")(_severity)


class IncidentPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: IncidentKind | None = None
    severity: int | None = Field(default=None, ge=1, le=4)
    commander_id: DbId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=50_000)

    _names = field_validator("severity", mode="before")(_severity)


class StatusIn(BaseModel):
    status: Literal["active", "stable"]
    note: str = Field(default="", max_length=4000)


class CloseIn(BaseModel):
    summary: str = Field(min_length=1, max_length=20_000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class AlarmLinkIn(BaseModel):
    alarm_ids: list[DbId] = Field(min_length=1, max_length=100)


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    assignee: str = Field(default="", max_length=200)
    due_at: datetime | None = None


class IncidentOut(_Out):
    id: int
    title: str
    kind: str
    severity: int
    status: str
    commander_id: int | None
    lat: float
    lon: float
    radius_m: float
    summary: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


class TimelineEntryOut(_Out):
    id: int
    at: datetime
    kind: str
    author: str
    text: str
    data: dict[str, Any]


class TaskOut(_Out):
    id: int
    title: str
    assignee: str
    due_at: datetime | None
    done: bool
    done_at: datetime | None


class AlarmSummary(BaseModel):
    """What the incident shows of a linked alarm (details when the alarm engine knows it)."""

    id: int
    text: str = ""
    priority: str = ""
    state: str = ""
    raised_at: datetime | None = None


class IncidentDetail(BaseModel):
    """Everything the incident page shows."""

    incident: IncidentOut
    commander_name: str
    alarms: list[AlarmSummary]
    timeline: list[TimelineEntryOut]
    tasks: list[TaskOut]
    affected: list[AffectedCompany]
