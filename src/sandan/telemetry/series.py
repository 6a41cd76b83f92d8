"""Downsampling for charts: any window of any length as at most `points` buckets per tag.

A chart of a month at 1-second readings would draw 2.6 million points per line. The series
reads the coarsest stored resolution that still gives `points` buckets (raw, 1-minute or
1-hour rollups) and merges it into equal buckets with the rollup columns: min and max keep
spikes visible (a min/max envelope, as M4-style chart reduction does), avg is weighted by
count, last is the last value in the bucket. Columnar: one pyarrow group-by per call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandan.telemetry.store import ROLLUPS, TelemetryStore

MAX_RAW_ROWS = 2_000_000
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)


def bucket_width(start: datetime, end: datetime, points: int) -> timedelta:
    """Equal buckets over [start, end), at least one second wide."""
    return max(timedelta(seconds=1), (end - start) / points)


def read_series(
    store: TelemetryStore, tag_ids: list[int], start: datetime, end: datetime, points: int
) -> pa.Table:
    """At most `points` buckets per tag, ROLLUPS columns, oldest first."""
    width = bucket_width(start, end, points)
    if width >= _HOUR:
        source = store.rollups(tag_ids, start, end, "1h")
    elif width >= _MINUTE:
        source = store.rollups(tag_ids, start, end, "1m")
    else:
        raw = store.raw(tag_ids, start, end, MAX_RAW_ROWS)
        source = pa.table(
            {
                "tag_id": raw["tag_id"],
                "bucket": raw["ts"],
                "min": raw["value"],
                "max": raw["value"],
                "avg": raw["value"],
                "count": pa.array(np.ones(raw.num_rows, np.int64)),
                "last": raw["value"],
            },
            schema=ROLLUPS,
        )
    return merge_buckets(source, start, width)


def merge_buckets(source: pa.Table, start: datetime, width: timedelta) -> pa.Table:
    """Merge ROLLUPS rows (sorted by time) into buckets of `width` counted from `start`."""
    if source.num_rows == 0:
        return ROLLUPS.empty_table()
    origin = np.datetime64(start.replace(tzinfo=None), "us")
    step = np.timedelta64(int(width.total_seconds() * 1_000_000), "us")
    times = source["bucket"].to_numpy().astype("datetime64[us]")
    index = (times - origin) // step
    counts = source["count"].to_numpy()
    avg = source["avg"].to_numpy(zero_copy_only=False)
    table = pa.table(
        {
            "tag_id": source["tag_id"],
            "index": pa.array(index.astype(np.int64)),
            "min": source["min"],
            "max": source["max"],
            "weighted": pa.array(np.nan_to_num(avg) * counts),
            "count": source["count"],
            "last": source["last"],
        }
    )
    merged = table.group_by(["tag_id", "index"], use_threads=False).aggregate(
        [
            ("min", "min"),
            ("max", "max"),
            ("weighted", "sum"),
            ("count", "sum"),
            ("last", "last"),
        ]
    )
    merged = merged.sort_by([("index", "ascending"), ("tag_id", "ascending")])
    buckets = origin + merged["index"].to_numpy() * step
    total = merged["count_sum"]
    return pa.table(
        {
            "tag_id": merged["tag_id"],
            "bucket": pa.array(buckets, pa.timestamp("us")),
            "min": merged["min_min"],
            "max": merged["max_max"],
            "avg": pc.divide(merged["weighted_sum"], pc.cast(total, pa.float64())),
            "count": total,
            "last": merged["last_last"],
        },
        schema=ROLLUPS,
    )
