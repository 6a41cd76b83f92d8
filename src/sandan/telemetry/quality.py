"""Data-quality reports of readable tags: gaps in their readings and a daily score.

The stores compute both in SQL (quality_sql.py); this module finds which tags the caller may
read and their sampling intervals, and counts the rejected readings kept in dead letters
against each tag's validity.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.store import GAP_FACTOR, TelemetryStore


def gaps(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    *,
    factor: float = GAP_FACTOR,
    limit: int = 10_000,
    now: datetime | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Silences longer than `factor` × sampling interval of readable tags in [start, end); the
    window ends at the latest now, so a silence still going on ends there. By tag then time,
    or the latest first (a page showing the most recent silences of many tags)."""
    profiles = registry.readable_tag_profiles(session, principal, tag_ids)
    sampling = {tag_id: sampling_ms for tag_id, _, _, sampling_ms in profiles}
    end = min(end, now or utcnow())
    table = store.gaps(sampling, start, end, factor, limit, newest_first=newest_first)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def quality_daily(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    first: date,
    last: date,
    *,
    factor: float = GAP_FACTOR,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The daily score (0-100) of readable tags for the UTC days first..last; today's is
    judged up to now, days to come are left out."""
    profiles = registry.readable_tag_profiles(session, principal, tag_ids)
    sampling = {tag_id: sampling_ms for tag_id, _, _, sampling_ms in profiles}
    refused = rejected_per_day(session, profiles, first, last)
    table = store.quality_daily(
        sampling, first, last, until=now or utcnow(), factor=factor, rejected=refused
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def rejected_per_day(
    session: Session, profiles: list[tuple[int, int, str, int]], first: date, last: date
) -> dict[tuple[int, date], int]:
    """(tag_id, day) -> readings of that tag refused that day, from the dead letters of the
    tags' devices. A refused reading is matched by its tag as sent (name, "<device>/<name>"
    over MQTT, or id) and dated by its own time when readable, else by when it was refused;
    only the rows a dead letter keeps (the first 10,000 of a call) can be counted."""
    if not profiles:
        return {}
    names: dict[int, dict[Any, int]] = {}
    for tag_id, device_id, name, _ in profiles:
        known = names.setdefault(device_id, {})
        known.update({name: tag_id, f"{device_id}/{name}": tag_id, tag_id: tag_id})
    begin = datetime.combine(first, datetime.min.time())
    # a reading refused up to the late window after its own time still belongs to its day
    letters = session.scalars(
        select(DeadLetter).where(
            DeadLetter.device_id.in_(list(names)),
            DeadLetter.received_at >= begin,
            DeadLetter.received_at < begin + timedelta(days=(last - first).days + 8),
        )
    )
    counts: Counter[tuple[int, date]] = Counter()
    for letter in letters:
        known = names.get(letter.device_id or 0, {})
        for row in letter.rows:
            reading = row.get("reading")
            if not isinstance(reading, dict):
                continue
            found = known.get(reading.get("tag"))
            if found is None:
                continue
            day = _day(reading.get("ts"), letter.received_at)
            if first <= day <= last:
                counts[(found, day)] += 1
    return dict(counts)


def _day(ts: Any, received_at: datetime) -> date:
    if isinstance(ts, str):
        try:
            parsed = datetime.fromisoformat(ts)
        except ValueError:
            return received_at.date()
        return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).date()
    return received_at.date()
