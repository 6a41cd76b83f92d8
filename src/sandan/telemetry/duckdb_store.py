"""The embedded telemetry store: one DuckDB file in the data directory, columns end to end.

DuckDB takes one writer per file, so one process owns it (the embedded deployment); a
production deployment uses the PostgreSQL store. Every append is one transaction, committed
before the caller acknowledges the readings.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sandan.telemetry import quality_sql
from sandan.telemetry.store import GAP_FACTOR, READINGS, ROLLUPS, Resolution, rollup_window

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    tag_id INTEGER NOT NULL,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL,
    PRIMARY KEY (tag_id, ts)
);
CREATE TABLE IF NOT EXISTS rollup_1m (
    tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, min DOUBLE, max DOUBLE, avg DOUBLE,
    count BIGINT NOT NULL, last DOUBLE, PRIMARY KEY (tag_id, bucket)
);
CREATE TABLE IF NOT EXISTS rollup_1h (
    tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, min DOUBLE, max DOUBLE, avg DOUBLE,
    count BIGINT NOT NULL, last DOUBLE, PRIMARY KEY (tag_id, bucket)
);
CREATE TABLE IF NOT EXISTS latest (
    tag_id INTEGER PRIMARY KEY,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL
);
"""


# Recompute every 1-minute bucket the batch touched from the raw rows (so late readings are
# folded in), then the touched hours from their minutes. BAD readings stay out.
_ROLLUP_SQL = (
    """
    CREATE OR REPLACE TEMP TABLE touched AS
    SELECT DISTINCT tag_id, time_bucket(INTERVAL 1 MINUTE, ts) AS bucket FROM incoming
    """,
    """
    INSERT OR REPLACE INTO rollup_1m
    SELECT r.tag_id, time_bucket(INTERVAL 1 MINUTE, r.ts) AS bucket, min(r.value), max(r.value),
           avg(r.value), count(*), arg_max(r.value, r.ts)
    FROM readings r
    SEMI JOIN touched t ON r.tag_id = t.tag_id AND time_bucket(INTERVAL 1 MINUTE, r.ts) = t.bucket
    WHERE r.quality < 2
      AND r.ts >= (SELECT min(bucket) FROM touched)
      AND r.ts < (SELECT max(bucket) FROM touched) + INTERVAL 1 MINUTE
    GROUP BY ALL
    """,
    """
    INSERT OR REPLACE INTO rollup_1h
    SELECT m.tag_id, time_bucket(INTERVAL 1 HOUR, m.bucket) AS hour, min(m.min), max(m.max),
           sum(m.avg * m.count) / sum(m.count), sum(m.count), arg_max(m.last, m.bucket)
    FROM rollup_1m m
    SEMI JOIN (SELECT DISTINCT tag_id, time_bucket(INTERVAL 1 HOUR, bucket) AS hour FROM touched) h
        ON m.tag_id = h.tag_id AND time_bucket(INTERVAL 1 HOUR, m.bucket) = h.hour
    WHERE m.bucket >= time_bucket(INTERVAL 1 HOUR, (SELECT min(bucket) FROM touched))
      AND m.bucket < time_bucket(INTERVAL 1 HOUR, (SELECT max(bucket) FROM touched))
                     + INTERVAL 1 HOUR
    GROUP BY ALL
    """,
)
_ROLLUP_TABLES = {"1m": "rollup_1m", "1h": "rollup_1h"}


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class DuckDBStore:
    """Readings in DuckDB, unique on (tag_id, ts), with a per-tag latest-value table."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(self.path)
        self._con.execute(_SCHEMA).fetchall()
        self._lock = threading.Lock()

    def append(self, batch: pa.Table) -> int:
        if batch.num_rows == 0:
            return 0
        incoming = batch.select(READINGS.names).cast(READINGS)
        with self._lock:
            con = self._con
            con.execute("BEGIN TRANSACTION").fetchall()
            try:
                con.register("incoming", incoming)
                rows = con.execute(
                    "INSERT OR IGNORE INTO readings SELECT tag_id, ts, value, quality FROM incoming"
                ).fetchall()
                con.execute(
                    """
                    INSERT INTO latest
                    SELECT tag_id, max(ts), arg_max(value, ts), arg_max(quality, ts)
                    FROM incoming GROUP BY tag_id
                    ON CONFLICT (tag_id) DO UPDATE SET
                        ts = excluded.ts, value = excluded.value, quality = excluded.quality
                    WHERE excluded.ts > latest.ts
                    """
                ).fetchall()
                for statement in _ROLLUP_SQL:
                    con.execute(statement).fetchall()
                con.unregister("incoming")
                con.execute("COMMIT").fetchall()
            except BaseException:
                con.execute("ROLLBACK").fetchall()
                raise
        return int(rows[0][0]) if rows else 0

    def latest(self, tag_ids: list[int]) -> pa.Table:
        if not tag_ids:
            return READINGS.empty_table()
        with self._lock:
            result = self._con.sql(
                "SELECT tag_id, ts, value, quality FROM latest WHERE tag_id IN "
                "(SELECT unnest($ids)) ORDER BY tag_id",
                params={"ids": tag_ids},
            ).to_arrow_table()
        return result.cast(READINGS)

    def raw(self, tag_ids: list[int], start: datetime, end: datetime, limit: int) -> pa.Table:
        if not tag_ids:
            return READINGS.empty_table()
        with self._lock:
            result = self._con.sql(
                "SELECT tag_id, ts, value, quality FROM readings "
                "WHERE tag_id IN (SELECT unnest($ids)) AND ts >= $start AND ts < $end "
                "ORDER BY ts, tag_id LIMIT $limit",
                params={
                    "ids": tag_ids,
                    "start": _naive_utc(start),
                    "end": _naive_utc(end),
                    "limit": limit,
                },
            ).to_arrow_table()
        return result.cast(READINGS)

    def rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution
    ) -> pa.Table:
        if not tag_ids:
            return ROLLUPS.empty_table()
        table = _ROLLUP_TABLES[resolution]
        with self._lock:
            result = self._con.sql(
                f"SELECT tag_id, bucket, min, max, avg, count, last FROM {table} "
                "WHERE tag_id IN (SELECT unnest($ids)) AND bucket >= $start AND bucket < $end "
                "ORDER BY bucket, tag_id",
                params={"ids": tag_ids, "start": _naive_utc(start), "end": _naive_utc(end)},
            ).to_arrow_table()
        return result.cast(ROLLUPS)

    def aggregate_rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution, query: str
    ) -> pa.Table:
        ids, window = rollup_window(tag_ids, start, end)
        source = (  # a semi-join on the ids and integer seconds: the cheapest per row
            f"SELECT tag_id, epoch_us(bucket) // 1000000 AS t, min, max, avg, count, last "
            f"FROM {_ROLLUP_TABLES[resolution]} WHERE tag_id IN (SELECT unnest([{ids}])) "
            f"AND {window}"
        )
        with self._lock:  # a cursor of its own: the read does not hold up appends
            cursor = self._con.cursor()
        try:
            result: pa.Table = cursor.sql(
                f"WITH rollups AS ({source}) SELECT * FROM ({query}) AS q"
            ).to_arrow_table()
        finally:
            cursor.close()
        return result

    def gaps(
        self,
        sampling_ms: dict[int, int],
        start: datetime,
        end: datetime,
        factor: float = GAP_FACTOR,
        limit: int = 10_000,
    ) -> pa.Table:
        return quality_sql.gaps(
            self._rows, quality_sql.DUCKDB, sampling_ms, start, end, factor, limit
        )

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
        return quality_sql.quality_daily(
            self._rows, quality_sql.DUCKDB, sampling_ms, first, last, until, factor, rejected
        )

    def _rows(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(query, params).fetchall()

    def apply_retention(self, now: datetime, keep: dict[str, timedelta]) -> dict[str, int]:
        deleted: dict[str, int] = {}
        targets = {
            "raw": ("readings", "ts"),
            "1m": ("rollup_1m", "bucket"),
            "1h": ("rollup_1h", "bucket"),
        }
        with self._lock:
            for resolution, age in keep.items():
                table, column = targets[resolution]
                rows = self._con.execute(
                    f"DELETE FROM {table} WHERE {column} < $cutoff",
                    {"cutoff": _naive_utc(now) - age},
                ).fetchall()
                deleted[resolution] = int(rows[0][0]) if rows else 0
        return deleted

    def export_parquet(
        self,
        path: Path,
        tag_ids: list[int],
        start: datetime,
        end: datetime,
        resolution: Literal["raw", "1m", "1h"] = "raw",
    ) -> int:
        if resolution == "raw":
            table = self.raw(tag_ids, start, end, limit=2**62)
        else:
            table = self.rollups(tag_ids, start, end, resolution)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        return int(table.num_rows)

    def count(self) -> int:
        with self._lock:
            rows = self._con.execute("SELECT count(*) FROM readings").fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        with self._lock:
            self._con.close()
