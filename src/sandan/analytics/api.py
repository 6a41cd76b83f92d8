"""HTTP routes of analytics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from sandan.analytics import service
from sandan.core.http import DbSession, RegistryRead
from sandan.core.types import IdPath
from sandan.telemetry.deps import Store

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


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


@router.get("/machines/{machine_id}/oee", response_model=OeeOut)
def machine_oee(
    machine_id: IdPath,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    ideal_cycle_s: Annotated[float | None, Query(gt=0, le=86_400)] = None,
) -> dict[str, Any]:
    """OEE after ISO 22400 (availability × performance × quality) with the six big losses;
    default window: the last hour."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=1)
    return service.machine_oee(session, principal, store, machine_id, start, end, ideal_cycle_s)
