"""API shapes of telemetry."""

from __future__ import annotations

from datetime import datetime
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
