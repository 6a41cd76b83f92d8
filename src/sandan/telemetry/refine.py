"""Refining, vectorised over a batch: map tags, check time, type and range, drop in-batch
duplicates, and flag each reading good / suspect / bad.

Rules (documented in docs/telemetry.md):
- a tag the sending device does not own, an unreadable time or a non-number is rejected;
- a reading that names its unit is converted to the tag's unit (units.py); a unit that is
  unknown or of another dimension is rejected;
- a time more than `future` ahead of the server clock, or older than the late window, is
  rejected (late and out-of-order readings inside the window are accepted as they are);
- a value outside the tag's expected range is BAD; within 5 % of the span beyond it, SUSPECT
  (sensor drift rather than nonsense); a fractional value on an int or bool tag is BAD;
- the same (tag, ts) twice in one batch keeps the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandan.telemetry.decode import Columns
from sandan.telemetry.store import BAD, GOOD, SUSPECT
from sandan.telemetry.units import normalise

DRIFT_SHARE = 0.05


@dataclass(frozen=True)
class TagTable:
    """The tags a device owns, as aligned columns."""

    ids: np.ndarray  # int32
    names: pa.Array  # string
    range_min: np.ndarray  # float64, NaN when open
    range_max: np.ndarray
    integral: np.ndarray  # bool: int or bool data type
    units: pa.Array | None = None  # string: the canonical unit, "" when the tag has none


@dataclass
class Refined:
    """Readings ready for the store, and the rejected indexes with their reasons."""

    batch: pa.Table
    rejects: list[tuple[int, str, str]]
    in_batch_duplicates: int


def refine(
    columns: Columns,
    tags: TagTable,
    *,
    now: datetime,
    late_window: timedelta,
    future: timedelta = timedelta(minutes=5),
) -> Refined:
    """Check a decoded batch against its device's tags; nothing here loops per reading."""
    n = len(columns)
    reasons = np.full(n, "", dtype=object)
    fields = np.full(n, "", dtype=object)

    def reject(mask: np.ndarray, field: str, reason: str) -> None:
        fresh = mask & (reasons == "")
        reasons[fresh] = reason
        fields[fresh] = field

    for index, field, reason in columns.problems:
        if reasons[index] == "":
            reasons[index], fields[index] = reason, field

    if pa.types.is_integer(columns.tags.type):
        position = pc.index_in(columns.tags, value_set=pa.array(tags.ids, pa.int32()))
    else:
        position = pc.index_in(columns.tags, value_set=tags.names)
    found = pc.fill_null(position, -1).to_numpy().astype(np.int64)
    known = found >= 0
    pos = np.where(known, found, 0)
    reject(~known, "tag", "not a tag of this device")

    ts = columns.ts.cast(pa.int64()).to_numpy(zero_copy_only=False)
    ts_null = columns.ts.is_null().to_numpy(zero_copy_only=False)
    ts = np.where(ts_null, 0, ts).astype(np.int64)
    now_us = int(now.timestamp() * 1_000_000)
    reject(ts_null, "ts", "not epoch milliseconds or an ISO-8601 time")
    reject(ts > now_us + int(future.total_seconds() * 1_000_000), "ts", "in the future")
    reject(
        ts < now_us - int(late_window.total_seconds() * 1_000_000),
        "ts",
        "older than the late-arrival window",
    )

    value = columns.value.to_numpy(zero_copy_only=False).astype(np.float64)
    reject(~np.isfinite(value), "value", "not a finite number")
    if columns.unit is not None and len(tags.ids):
        canonical = tags.units if tags.units is not None else pa.nulls(len(tags.ids), pa.string())
        value, failures = normalise(
            value,
            columns.unit,
            pc.fill_null(canonical, "").take(pa.array(pos)),
            np.flatnonzero(reasons == ""),
        )
        for mask, why in failures:
            reject(mask, "unit", why)

    ok = reasons == ""
    low, high = tags.range_min[pos], tags.range_max[pos]
    span = np.where(np.isfinite(high - low), high - low, 0.0)
    below = np.isfinite(low) & (value < low)
    above = np.isfinite(high) & (value > high)
    margin = DRIFT_SHARE * span
    drift = (below & (value >= low - margin)) | (above & (value <= high + margin))
    quality = np.full(n, GOOD, dtype=np.uint8)
    quality[(below | above) & drift] = SUSPECT
    quality[(below | above) & ~drift] = BAD
    quality[tags.integral[pos] & (np.floor(value) != value)] = BAD

    idx = np.flatnonzero(ok)
    tag_ids = tags.ids[pos[idx]].astype(np.int32)
    kept_ts = ts[idx]
    # Keep the last of each (tag, ts) pair inside the batch.
    order = np.lexsort((np.arange(len(idx)), kept_ts, tag_ids))[::-1]
    _, first = np.unique(np.stack([tag_ids[order], kept_ts[order]]), axis=1, return_index=True)
    keep = np.sort(order[first]) if len(order) else order
    batch = pa.table(
        {
            "tag_id": pa.array(tag_ids[keep], pa.int32()),
            "ts": pa.array(kept_ts[keep], pa.int64()).cast(pa.timestamp("us")),
            "value": pa.array(value[idx][keep], pa.float64()),
            "quality": pa.array(quality[idx][keep], pa.uint8()),
        }
    )
    bad = np.flatnonzero(~ok)
    rejects = [(int(i), str(fields[i]), str(reasons[i])) for i in bad]
    return Refined(batch=batch, rejects=rejects, in_batch_duplicates=len(idx) - len(keep))
