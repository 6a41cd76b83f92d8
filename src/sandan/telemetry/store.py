"""Where readings live: a TelemetryStore takes Arrow batches and answers time-range queries.

A batch has the columns of READINGS: tag_id, ts (UTC, microseconds), value, quality.
Quality is GOOD, SUSPECT or BAD (refine.py decides). Readings are unique on (tag_id, ts):
a repeated reading is dropped, not stored twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa

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
