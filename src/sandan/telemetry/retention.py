"""Retention: delete raw readings and rollups older than the configured ages.

`SANDAN_RETENTION_RAW_DAYS`, `SANDAN_RETENTION_1M_DAYS`, `SANDAN_RETENTION_1H_DAYS` (unset:
keep forever) are applied by the store's own `apply_retention` (PostgreSQL drops whole day
partitions), every `SANDAN_RETENTION_EVERY_HOURS` inside `sandan serve` and whenever
`sandan telemetry retention` runs (for cron, e.g. beside separate ingest workers).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog

from sandan.core.clock import utcnow
from sandan.settings import Settings
from sandan.telemetry.store import TelemetryStore

log = structlog.get_logger(__name__)


def retention_policy(settings: Settings) -> dict[str, timedelta]:
    """resolution -> age to keep, for the resolutions that have one."""
    days = {
        "raw": settings.retention_raw_days,
        "1m": settings.retention_1m_days,
        "1h": settings.retention_1h_days,
    }
    return {resolution: timedelta(days=d) for resolution, d in days.items() if d}


def raw_retention(settings: Settings) -> timedelta | None:
    """How long raw readings are kept, if limited (a backfill older than this is refused)."""
    return retention_policy(settings).get("raw")


def apply_retention(
    store: TelemetryStore, keep: dict[str, timedelta], now: datetime | None = None
) -> dict[str, int]:
    """Delete what is older than each age; returns rows deleted per resolution."""
    if not keep:
        return {}
    deleted = store.apply_retention(now or utcnow(), keep)
    log.info("telemetry.retention", deleted=deleted, keep={k: v.days for k, v in keep.items()})
    return deleted


async def retention_loop(store: TelemetryStore, settings: Settings, stop: asyncio.Event) -> None:
    """Apply the policy at start and then every `retention_every_hours`, until `stop`; a
    failed run is logged and retried at the next interval."""
    keep = retention_policy(settings)
    every = settings.retention_every_hours * 3600
    if not keep or every <= 0:
        return
    while not stop.is_set():
        try:
            await asyncio.to_thread(apply_retention, store, keep)
        except Exception:
            log.exception("telemetry.retention_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
