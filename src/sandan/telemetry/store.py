"""Where readings live: a TelemetryStore takes Arrow batches and answers time-range queries.

A batch has the columns of READINGS: tag_id, ts (UTC, microseconds), value, quality.
Quality is GOOD, SUSPECT or BAD (refine.py decides). Readings are unique on (tag_id, ts):
a repeated reading is dropped, not stored twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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

    def close(self) -> None: ...
