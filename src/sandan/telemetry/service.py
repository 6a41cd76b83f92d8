"""Ingest and read telemetry. Every path (HTTP now; MQTT, Sparkplug B and OPC UA next) goes
through `ingest`: authenticate the device, check tag ownership, refine, store, dead-letter."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandan.core.audit import service as audit
from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import readable
from sandan.registry import service as registry
from sandan.telemetry.anomaly import flag_anomalies
from sandan.telemetry.decode import Columns
from sandan.telemetry.ingest_metrics import count_batch, count_rejects
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.observers import notify
from sandan.telemetry.refine import TagTable, refine
from sandan.telemetry.series import read_series
from sandan.telemetry.store import Resolution, TelemetryStore

LATE_WINDOW = timedelta(days=7)
MAX_DEAD_ROWS = 10_000  # per call; the count and reasons always cover all of them
SHOWN_REJECTS = 100


@dataclass
class IngestReport:
    """What happened to a batch: stored, duplicates dropped, rejected with reasons."""

    received: int
    stored: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]] = field(default_factory=list)
    dead_letter_id: int | None = None


def tag_table(tags: list[Any]) -> TagTable:
    """Aligned columns of a device's numeric tags (string tags are not time series)."""
    numeric = [t for t in tags if t.data_type != "str"]
    return TagTable(
        ids=np.array([t.id for t in numeric], dtype=np.int32),
        names=pa.array([t.name for t in numeric], pa.string()),
        range_min=np.array([np.nan if t.range_min is None else t.range_min for t in numeric]),
        range_max=np.array([np.nan if t.range_max is None else t.range_max for t in numeric]),
        integral=np.array([t.data_type in ("int", "bool") for t in numeric], dtype=bool),
        units=pa.array([t.unit for t in numeric], pa.string()),
    )


def reading_of(columns: Columns, index: int) -> dict[str, Any]:
    """One decoded reading as kept in a dead letter."""
    ts = columns.ts[index].as_py()
    return {
        "tag": columns.tags[index].as_py(),
        "ts": ts.isoformat() if ts else None,
        "value": columns.value[index].as_py(),
    }


def ingest(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    columns: Columns,
    *,
    device_id: int | None = None,
    source: str = "http",
    now: datetime | None = None,
) -> IngestReport:
    """Refine a decoded batch, store the good part durably, keep the rejects."""
    device, tags = registry.ingest_tags(session, principal, device_id)
    refined = refine(columns, tag_table(tags), now=now or utcnow(), late_window=LATE_WINDOW)
    stored = store_batch(
        session,
        store,
        refined.batch,
        source=source,
        in_batch_duplicates=refined.in_batch_duplicates,
    )
    report = IngestReport(
        received=len(columns),
        stored=stored,
        duplicates=refined.batch.num_rows - stored + refined.in_batch_duplicates,
        rejected=len(refined.rejects),
    )
    if refined.rejects:
        rows = [
            {"index": i, "field": f, "reason": r, "reading": reading_of(columns, i)}
            for i, f, r in refined.rejects[:MAX_DEAD_ROWS]
        ]
        letter = keep_rejects(
            session,
            source,
            device.company_id,
            device.id,
            rows,
            total=len(refined.rejects),
            reasons=dict(Counter(f"{f}: {r}" for _, f, r in refined.rejects)),
        )
        report.dead_letter_id = letter.id
        report.rejects = rows[:SHOWN_REJECTS]
    return report


def store_batch(
    session: Session,
    store: TelemetryStore,
    batch: pa.Table,
    *,
    source: str,
    in_batch_duplicates: int = 0,
) -> int:
    """Append refined readings durably and announce them after the session commits; score
    them for anomalies (`telemetry.anomaly` events; a re-sent batch that stored nothing is
    not scored again) and hand them to the batch observers (the alarm engine). Every path
    comes through here, so /metrics counts them all."""
    started = time.perf_counter()
    stored = store.append(batch)
    duplicates = batch.num_rows - stored + in_batch_duplicates
    count_batch(session, source, stored, duplicates, time.perf_counter() - started)
    if stored:
        tag_ids = np.unique(batch.column("tag_id").to_numpy()).tolist()
        raise_event(
            session,
            "telemetry.reading_batch",
            {"source": source, "stored": stored, "tag_ids": tag_ids[:1000]},
        )
        flag_anomalies(session, store, batch)
        notify(session, store, batch)
    return stored


def keep_rejects(
    session: Session,
    source: str,
    company_id: int | None,
    device_id: int | None,
    rows: list[dict[str, Any]],
    *,
    total: int | None = None,
    reasons: dict[str, int] | None = None,
) -> DeadLetter:
    """Keep refused readings or messages for inspection and replay; `reasons` counts all of
    them even when only the first MAX_DEAD_ROWS rows are kept."""
    letter = DeadLetter(
        source=source,
        company_id=company_id,
        device_id=device_id,
        count=total if total is not None else len(rows),
        rows=rows[:MAX_DEAD_ROWS],
        reasons=reasons if reasons is not None else dict(Counter(reason_of(r) for r in rows)),
    )
    session.add(letter)
    session.flush()
    count_rejects(session, source, letter.reasons)
    return letter


def reason_of(row: dict[str, Any]) -> str:
    """How a dead-letter row's reason is counted."""
    return f"{row['field']}: {row['reason']}" if "field" in row else str(row["reason"])


def readable_tags(session: Session, principal: Principal, tag_ids: list[int]) -> list[int]:
    """The tags of `tag_ids` the principal may read (a live stream opens only on these)."""
    return registry.readable_tag_ids(session, principal, tag_ids)


def latest(
    session: Session, principal: Principal, store: TelemetryStore, tag_ids: list[int]
) -> list[dict[str, Any]]:
    """The newest reading of each readable tag."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    rows: list[dict[str, Any]] = store.latest(allowed).to_pylist()
    return rows


def raw(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """Readings of readable tags in a time range, oldest first."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    rows: list[dict[str, Any]] = store.raw(allowed, start, end, limit).to_pylist()
    return rows


def rollups(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    resolution: Resolution,
) -> list[dict[str, Any]]:
    """1-minute or 1-hour buckets (min, max, avg, count, last) of readable tags."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    rows: list[dict[str, Any]] = store.rollups(allowed, start, end, resolution).to_pylist()
    return rows


def aggregate_rollups(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    resolution: Resolution,
    query: str,
) -> pa.Table:
    """Run an aggregate over the buckets of readable tags inside the store (see
    `TelemetryStore.aggregate_rollups`)."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    return store.aggregate_rollups(allowed, start, end, resolution, query)


def series(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    points: int,
) -> list[dict[str, Any]]:
    """A chart's worth of readable tags: at most `points` buckets per tag (series.py)."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    rows: list[dict[str, Any]] = read_series(store, allowed, start, end, points).to_pylist()
    return rows


def export_parquet(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    end: datetime,
    resolution: Literal["raw", "1m", "1h"],
    directory: Path,
) -> tuple[Path, int]:
    """Write a readable selection to a Parquet file under `directory`; the export is audited."""
    allowed = registry.readable_tag_ids(session, principal, tag_ids)
    path = directory / f"export-{uuid.uuid4().hex}.parquet"
    count = store.export_parquet(path, allowed, start, end, resolution)
    audit.append(
        session,
        principal,
        action="export",
        entity="telemetry",
        after={
            "tag_ids": allowed,
            "start": start,
            "end": end,
            "resolution": resolution,
            "rows": count,
        },
    )
    return path, count


def machine_states(
    session: Session, principal: Principal, store: TelemetryStore
) -> dict[int, dict[int, int]]:
    """company_id -> {state: machines in it now}, over the machines the principal may read."""
    tags = registry.state_tags(session, principal)
    company_of = dict(tags)
    counts: dict[int, dict[int, int]] = {}
    for row in store.latest([t for t, _ in tags]).to_pylist():
        if row["value"] is None:
            continue
        per = counts.setdefault(company_of[row["tag_id"]], {})
        per[int(row["value"])] = per.get(int(row["value"]), 0) + 1
    return counts


def dead_letters_readable(principal: Principal) -> Select[DeadLetter]:
    """Dead letters of the companies whose assets the principal may read."""
    return readable(select(DeadLetter), principal, DeadLetter.company_id, Resource.assets)
