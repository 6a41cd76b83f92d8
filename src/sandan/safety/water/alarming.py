"""Leak suspicions become alarms of the control centre's ISA-18.2 engine: one per DMA
(source `dma:<code>`, condition `night_flow_leak`), so a leak that persists night after night
stays one alarm, and clears when the night flow is back within its threshold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sandan.safety.alarms import service as alarms
from sandan.safety.water import schemas

CONDITION = "night_flow_leak"


def raise_leak(session: Session, s: schemas.SuspicionOut, at: datetime) -> None:
    """Raise (or keep) the DMA's leak alarm; a large excess is a high priority."""
    alarms.raise_external(
        session,
        source=f"dma:{s.dma}",
        condition=CONDITION,
        priority="high" if s.excess >= 10 * s.threshold else "medium",
        message=(
            f"DMA {s.dma}: night flow {s.excess:.1f} m³/h above its baseline for "
            f"{s.nights} nights since {s.since.isoformat()} - suspected leak"
        ),
        company_id=None,
        lat=s.lat,
        lon=s.lon,
        at=at,
        kind="water",
        value=s.excess,
    )


def clear_leak(session: Session, dma: str, at: datetime) -> None:
    """The DMA's night flow is back to normal: its open leak alarm returns to normal."""
    alarms.clear_external(session, source=f"dma:{dma}", condition=CONDITION, at=at)
