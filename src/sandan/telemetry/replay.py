"""Dead-letter replay: run a letter's kept readings through refine and the store again, after
the operator fixed what made them fail (created the missing tag, widened a range, enabled the
device). Readings that now pass are stored; the rest stay in the letter with their new
reason.

Time is judged as of the letter's `received_at`, not the replay's: a reading that was too
old or in the future when it arrived stays so (CSV letters keep the backfill window). Rows
without a readable reading (an unreadable message, a refused topic, a time or number that
could not be decoded) are not replayed and stay as they are.

Replay state lives in the existing JSON columns (no migration): `replayed_at` is the last
replay, and each row still kept carries `replays`, how many replays it has failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, NotFound
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.telemetry import service
from sandan.telemetry.csv_import import SOURCE as CSV_SOURCE
from sandan.telemetry.csv_import import backfill_window, text_columns
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.refine import refine
from sandan.telemetry.store import TelemetryStore

SOURCE = "replay"
_PREFIXED = ("mqtt", "simulator")  # tags kept as "<device_id>/<name>"


@dataclass
class ReplayReport:
    """What one replay did, and the letter as it is now."""

    dead_letter_id: int
    replayed: int  # rows tried again
    stored: int
    duplicates: int
    rejected: int  # of the rows tried, still failing
    skipped: int  # rows that cannot be replayed (no readable reading)
    count: int  # the letter's count now
    reasons: dict[str, int]
    replays: int  # how many replays the letter's remaining rows have been through
    replayed_at: Any
    rejects: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    """A reading's time or value as text for the tolerant converters of csv_import."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def _replayable(row: dict[str, Any]) -> bool:
    reading = row.get("reading")
    return (
        isinstance(reading, dict)
        and ("tag" in reading or "tag_id" in reading)
        and reading.get("ts") is not None
        and reading.get("value") is not None
    )


def _tag_id(reading: dict[str, Any], names: dict[str, int], prefix: str | None) -> int:
    """The tag id a kept reading names, or -1 (refine rejects it as not a tag)."""
    tag = reading.get("tag", reading.get("tag_id"))
    if isinstance(tag, bool):
        return -1
    if isinstance(tag, int):
        return tag
    if not isinstance(tag, str):
        return -1
    if "tag_id" in reading and "tag" not in reading:
        return int(tag) if tag.strip().isdigit() and len(tag.strip()) < 10 else -1
    if prefix is not None and tag.startswith(prefix):
        tag = tag[len(prefix) :]
    return names.get(tag, -1)


def writable_letter(session: Session, principal: Principal, letter_id: int) -> DeadLetter:
    """The letter, locked for update, if the principal may read it (else 404); writing is
    checked with the device (`registry.ingest_tags`: 403 without telemetry:write)."""
    stmt = service.dead_letters_readable(principal).where(DeadLetter.id == letter_id)
    letter = session.scalar(stmt.with_for_update())
    if letter is None:
        raise NotFound(f"dead letter {letter_id} not found")
    return letter


def replay(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    letter_id: int,
    *,
    raw_retention: timedelta | None = None,
) -> ReplayReport:
    """Re-run a dead letter's readings; store what passes now, keep the rest."""
    letter = writable_letter(session, principal, letter_id)
    if letter.device_id is None:
        raise Conflict(
            "this dead letter has no device (refused messages): nothing in it can be replayed"
        )
    device, tags = registry.ingest_tags(session, principal, letter.device_id)
    table = service.tag_table(tags)
    names = {str(n): int(i) for n, i in zip(table.names.to_pylist(), table.ids, strict=True)}
    prefix = f"{device.id}/" if letter.source in _PREFIXED else None
    rows: list[dict[str, Any]] = list(letter.rows)
    tried = [i for i, row in enumerate(rows) if _replayable(row)]
    readings = [rows[i]["reading"] for i in tried]
    columns, _ = text_columns(
        "tag_id",
        pa.array([_tag_id(r, names, prefix) for r in readings], pa.int32()),
        pa.array([_text(r.get("ts")) for r in readings], pa.string()),
        pa.array([_text(r.get("value")) for r in readings], pa.string()),
    )
    received = letter.received_at
    window = (
        backfill_window(received, raw_retention)
        if letter.source == CSV_SOURCE
        else service.LATE_WINDOW
    )
    refined = refine(columns, table, now=received, late_window=window)
    stored = (
        service.store_batch(
            session,
            store,
            refined.batch,
            source=SOURCE,
            in_batch_duplicates=refined.in_batch_duplicates,
        )
        if refined.batch.num_rows
        else 0
    )
    failed = {tried[int(i)]: (f, r) for i, f, r in refined.rejects}
    attempted = set(tried)
    still: list[dict[str, Any]] = []
    for position, row in enumerate(rows):
        if position in attempted:
            if position not in failed:
                continue  # stored now (or already stored: a duplicate)
            field_name, reason = failed[position]
            replays = int(row.get("replays", 0)) + 1
            row = {**row, "field": field_name, "reason": reason, "replays": replays}
        still.append(row)
    _update(letter, rows, still)
    raise_event(
        session,
        "telemetry.dead_letter_replayed",
        {"dead_letter_id": letter.id, "company_id": letter.company_id, "stored": stored},
    )
    session.flush()
    return ReplayReport(
        dead_letter_id=letter.id,
        replayed=len(tried),
        stored=stored,
        duplicates=refined.batch.num_rows - stored + refined.in_batch_duplicates,
        rejected=len(failed),
        skipped=len(rows) - len(tried),
        count=letter.count,
        reasons=dict(letter.reasons),
        replays=max((int(r.get("replays", 0)) for r in still), default=0),
        replayed_at=letter.replayed_at,
        rejects=[r for r in still if "replays" in r][: service.SHOWN_REJECTS],
    )


def _update(letter: DeadLetter, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """Count, reasons and rows of the letter after a replay. Refusals beyond the kept rows
    (a call with more than MAX_DEAD_ROWS) could not be replayed and still count."""
    kept_before = Counter(service.reason_of(r) for r in before)
    lost = Counter({k: int(v) for k, v in letter.reasons.items() if isinstance(v, int)})
    lost.subtract(kept_before)
    reasons = Counter(service.reason_of(r) for r in after)
    reasons.update({k: v for k, v in lost.items() if v > 0})
    letter.rows = after
    letter.count = max(letter.count - len(before), 0) + len(after)
    letter.reasons = dict(reasons)
    letter.replayed_at = utcnow()


def replayable_letters(
    session: Session, principal: Principal, *, device_id: int | None = None
) -> list[int]:
    """Ids of the letters with a device that still hold refusals, oldest first."""
    stmt = service.dead_letters_readable(principal).where(
        DeadLetter.device_id.is_not(None), DeadLetter.count > 0
    )
    if device_id is not None:
        stmt = stmt.where(DeadLetter.device_id == device_id)
    return list(session.scalars(stmt.with_only_columns(DeadLetter.id).order_by(DeadLetter.id)))
