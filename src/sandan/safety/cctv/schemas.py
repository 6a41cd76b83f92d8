"""API shapes of cameras and CCTV events."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandan.core.types import DbId as Id

Priority = Literal["low", "medium", "high", "critical"]


class CameraIn(BaseModel):
    """A camera, named as its analytics (Frigate) names it."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = Field(default="", max_length=200)
    company_id: Id | None = None
    site_id: Id | None = None
    zone_id: Id | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alarm_labels: list[str] = Field(
        default_factory=lambda: ["person", "fire", "smoke"], max_length=20
    )
    min_score: float = Field(default=0.7, ge=0, le=1)
    priority: Priority = "high"
    enabled: bool = True


class CameraPatch(BaseModel):
    label: str | None = Field(default=None, max_length=200)
    zone_id: Id | None = None
    site_id: Id | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alarm_labels: list[str] | None = Field(default=None, max_length=20)
    min_score: float | None = Field(default=None, ge=0, le=1)
    priority: Priority | None = None
    enabled: bool | None = None


class CameraOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    label: str
    company_id: int | None
    site_id: int | None
    zone_id: int | None
    lat: float | None
    lon: float | None
    alarm_labels: str
    min_score: float
    priority: str
    enabled: bool


class WebhookEvent(BaseModel):
    """A detection from any video analytics that is not Frigate over MQTT."""

    type: Literal["new", "update", "end"]
    camera: str = Field(min_length=1, max_length=100)
    object_id: str = Field(min_length=1, max_length=80)
    label: str = Field(min_length=1, max_length=40)
    score: float = Field(ge=0, le=1)
    zones: list[str] = Field(default_factory=list, max_length=50)
    started_at: datetime
    ended_at: datetime | None = None
    false_positive: bool = False
    snapshot_b64: str | None = Field(default=None, max_length=3_000_000)


class CctvEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    object_id: str
    camera_name: str
    camera_id: int | None
    company_id: int | None
    label: str
    sub_label: str | None
    top_score: float
    zones: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    updates: int
    snapshot: str | None
    outcome: str
    reason: str
    alarm_id: int | None
    via: str
