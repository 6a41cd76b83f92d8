"""API shapes of telemetry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from sandan.core.clock import as_utc


def _utc(value: datetime) -> datetime:
    """The stores keep naive UTC; answers say so explicitly."""
    return as_utc(value)


class IngestOut(BaseModel):
    received: int
    stored: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]]
    dead_letter_id: int | None


class ReadingOut(BaseModel):
    tag_id: int
    ts: datetime
    value: float | None
    quality: int

    _ts = field_validator("ts")(_utc)


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: datetime
    source: str
    company_id: int | None
    device_id: int | None
    count: int
    reasons: dict[str, Any]
    rows: list[dict[str, Any]]
    replayed_at: datetime | None


class RollupOut(BaseModel):
    tag_id: int
    bucket: datetime
    min: float | None
    max: float | None
    avg: float | None
    count: int
    last: float | None

    _bucket = field_validator("bucket")(_utc)


class GapOut(BaseModel):
    """A silence longer than the gap factor × the tag's sampling interval, clipped to the
    window asked for; `ongoing` when no reading had ended it by the window's end."""

    tag_id: int
    start: datetime
    end: datetime
    seconds: float
    missing: int
    ongoing: bool

    _start = field_validator("start")(_utc)
    _end = field_validator("end")(_utc)


class QualityOut(BaseModel):
    """A tag's data-quality score (0-100) for one UTC day and the shares it is made of."""

    tag_id: int
    day: date
    expected: float
    received: int
    good: int
    suspect: int
    bad: int
    rejected: int
    completeness: float
    validity: float | None
    continuity: float
    score: float


class CsvIngestOut(IngestOut):
    """A CSV backfill: rejects name their `line` (the header is line 1); `quality` counts the
    accepted readings by flag (an out-of-range value is stored as suspect or bad)."""

    lines: int
    quality: dict[str, int]


class ReplayOut(BaseModel):
    """One dead-letter replay: what was tried and stored, and the letter as it is now."""

    dead_letter_id: int
    replayed: int
    stored: int
    duplicates: int
    rejected: int
    skipped: int
    count: int
    reasons: dict[str, Any]
    replays: int
    replayed_at: datetime | None
    rejects: list[dict[str, Any]]
