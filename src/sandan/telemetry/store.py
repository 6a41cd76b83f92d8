"""Where readings live: a TelemetryStore takes Arrow batches and answers time-range queries.

A batch has the columns of READINGS: tag_id, ts (UTC, microseconds), value, quality.
Quality is GOOD, SUSPECT or BAD (refine.py decides). Readings are unique on (tag_id, ts):
a repeated reading is dropped, not stored twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa

from sandan.core.clock import as_utc

GOOD, SUSPECT, BAD = 0, 1, 2
QUALITY_NAMES = {GOOD: "good", SUSPECT: "suspect", BAD: "bad"}

READINGS = pa.schema(
    [
        pa.field("tag_id", pa.int32(), nullable=False),
        pa.field("ts", pa.timestamp("us"), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("quality", pa.uint8(), nullable=False),
    ]
)


Resolution = Literal["1m", "1h"]
BUCKET_SECONDS = {"1m": 60, "1h": 3600}

# Rollups are kept up to date on every append: each bucket a batch touches is recomputed from
# the raw readings, so a rollup always equals an aggregate of the raw rows (late readings too).
# Only GOOD and SUSPECT readings count; BAD ones are stored but left out of rollups.
ROLLUPS = pa.schema(
    [
        pa.field("tag_id", pa.int32(), nullable=False),
        pa.field("bucket", pa.timestamp("us"), nullable=False),
        pa.field("min", pa.float64()),
        pa.field("max", pa.float64()),
        pa.field("avg", pa.float64()),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("last", pa.float64()),
    ]
)

# The 1-hour rollups also keep, for analytics over months, how many minutes of the hour have
# data (`minutes`) and the sum of their means (`avg_sum`: kW-minutes for a power tag), and
# per hour how many minutes ended on each whole value 0-15 (`levels`: the minutes in each
# state of a state tag), so a month of time in state is read from hours, not minutes.
LEVELS = 16
LEVEL_CHECK = "{v} >= 0 AND {v} < 16 AND {v} = floor({v})"


# Gaps: a tag is silent for longer than GAP_FACTOR × its sampling interval. A gap is reported
# clipped to the window asked for: `start` is the last reading before the silence (or the
# window start), `end` the reading that ended it (or the window end, then `ongoing`).
GAP_FACTOR = 3.0
GAPS = pa.schema(
    [
        pa.field("tag_id", pa.int32(), nullable=False),
        pa.field("start", pa.timestamp("us"), nullable=False),
        pa.field("end", pa.timestamp("us"), nullable=False),
        pa.field("seconds", pa.float64(), nullable=False),
        pa.field("missing", pa.int64(), nullable=False),  # about how many readings were due
        pa.field("ongoing", pa.bool_(), nullable=False),
    ]
)

# The daily data-quality score of a tag, 0-100 (UTC days), weighted from three shares:
# completeness = min(1, received / expected), expected = observed time / sampling interval;
# validity = (good + SUSPECT_CREDIT × suspect) / (stored + rejected), null without readings;
# continuity = 1 − time inside gaps / observed time.
QUALITY_WEIGHTS = {"completeness": 0.4, "validity": 0.4, "continuity": 0.2}
SUSPECT_CREDIT = 0.5
QUALITY = pa.schema(
    [
        pa.field("tag_id", pa.int32(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("expected", pa.float64(), nullable=False),
        pa.field("received", pa.int64(), nullable=False),
        pa.field("good", pa.int64(), nullable=False),
        pa.field("suspect", pa.int64(), nullable=False),
        pa.field("bad", pa.int64(), nullable=False),
        pa.field("rejected", pa.int64(), nullable=False),
        pa.field("completeness", pa.float64(), nullable=False),
        pa.field("validity", pa.float64()),
        pa.field("continuity", pa.float64(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
)


class TelemetryStore(Protocol):
    """The two backends (DuckDB embedded, PostgreSQL in production) offer the same calls."""

    def append(self, batch: pa.Table) -> int:
        """Store a batch durably; returns how many readings were new (duplicates dropped)."""
        ...

    def latest(self, tag_ids: list[int]) -> pa.Table:
        """The newest reading of each tag (tag_id, ts, value, quality)."""
        ...

    def raw(self, tag_ids: list[int], start: datetime, end: datetime, limit: int) -> pa.Table:
        """Readings of the tags in [start, end), oldest first, at most `limit` rows."""
        ...

    def rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution
    ) -> pa.Table:
        """Buckets of the tags in [start, end), oldest first, with the ROLLUPS columns."""
        ...

    def aggregate_rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution, query: str
    ) -> pa.Table:
        """Run `query` over the buckets of the tags in [start, end) inside the store, so a
        month of minutes is reduced where it lies (analytics). `query` selects from
        `rollups(tag_id, t, min, max, avg, count, last, minutes, avg_sum)` and
        `levels(tag_id, t, level, minutes)`, `t` the bucket's start in Unix seconds (at 1m a
        bucket is one minute: `minutes` 1, `avg_sum` its avg, `levels` its whole `last`). It
        is code, never user text, in SQL both backends run (no parameters)."""
        ...

    def gaps(
        self,
        sampling_ms: dict[int, int],
        start: datetime,
        end: datetime,
        factor: float = GAP_FACTOR,
        limit: int = 10_000,
        *,
        newest_first: bool = False,
    ) -> pa.Table:
        """Silences of the tags (tag_id -> sampling interval) in [start, end), with the GAPS
        columns, by tag then time (or the latest start first), at most `limit` rows."""
        ...

    def quality_daily(
        self,
        sampling_ms: dict[int, int],
        first: date,
        last: date,
        *,
        until: datetime,
        factor: float = GAP_FACTOR,
        rejected: dict[tuple[int, date], int] | None = None,
    ) -> pa.Table:
        """The QUALITY row of each tag for each UTC day from `first` to `last` (inclusive)
        that began before `until`; the day holding `until` is judged up to it. `rejected`
        counts refused readings per (tag, day) against validity."""
        ...

    def apply_retention(self, now: datetime, keep: dict[str, timedelta]) -> dict[str, int]:
        """Delete what is older than `keep[resolution]` ("raw", "1m", "1h"); returns counts."""
        ...

    def export_parquet(
        self,
        path: Path,
        tag_ids: list[int],
        start: datetime,
        end: datetime,
        resolution: Literal["raw", "1m", "1h"] = "raw",
    ) -> int:
        """Write a selection to a Parquet file; returns the number of rows written."""
        ...

    def close(self) -> None: ...


def rollup_sources(resolution: Resolution, rollups: str, levels: str) -> str:
    """The `rollups` and `levels` of an aggregate query, from the selections of the store's
    rollup table (`t` in seconds added) and 1-hour level table (both already filtered)."""
    if resolution == "1m":
        rollups = f"SELECT *, 1 AS minutes, avg AS avg_sum FROM ({rollups}) AS r"
        levels = (
            f"SELECT tag_id, t, CAST(last AS INTEGER) AS level, 1 AS minutes FROM rollups "
            f"WHERE {LEVEL_CHECK.format(v='last')}"
        )
    return f"WITH rollups AS ({rollups}), levels AS ({levels})"


def rollup_window(tag_ids: list[int], start: datetime, end: datetime) -> tuple[str, str]:
    """The id list and the time condition of an aggregate over rollups, as SQL literals."""
    ids = ",".join(str(int(t)) for t in tag_ids) or "NULL"
    low, high = (
        f"TIMESTAMP '{as_utc(v).replace(tzinfo=None).isoformat(sep=' ')}'" for v in (start, end)
    )
    return ids, f"bucket >= {low} AND bucket < {high}"
