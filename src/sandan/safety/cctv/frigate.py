"""The shape of Frigate's `frigate/events` messages (and of our generic webhook), parsed
leniently: Frigate adds fields between versions and we must not drop an event for that."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["new", "update", "end"]
FIRE_LABELS = frozenset({"fire", "smoke", "flame"})


class TrackedObject(BaseModel):
    """`before` / `after` of a Frigate event: one tracked object."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=80)
    camera: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=40)
    sub_label: str | list[object] | None = None
    top_score: float = Field(default=0.0, ge=0, le=1)
    score: float = Field(default=0.0, ge=0, le=1)
    false_positive: bool = False
    start_time: float
    end_time: float | None = None
    current_zones: list[str] = Field(default_factory=list)
    entered_zones: list[str] = Field(default_factory=list)
    has_snapshot: bool = False

    def started(self) -> datetime:
        return datetime.fromtimestamp(self.start_time, UTC)

    def ended(self) -> datetime | None:
        return None if self.end_time is None else datetime.fromtimestamp(self.end_time, UTC)

    def sub_label_text(self) -> str | None:
        """Frigate 0.13 sends a string, 0.14 a [name, score] pair."""
        if isinstance(self.sub_label, list):
            return str(self.sub_label[0]) if self.sub_label else None
        return self.sub_label

    def best_score(self) -> float:
        return max(self.top_score, self.score)


class FrigateEvent(BaseModel):
    """A message on `frigate/events`."""

    model_config = ConfigDict(extra="ignore")

    type: EventType
    before: TrackedObject | None = None
    after: TrackedObject


def alarm_kind(label: str) -> str:
    """Fire and smoke detections are fire alarms; people and vehicles are security ones."""
    return "fire" if label in FIRE_LABELS else "cctv"
