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
from sandan.telemetry.store import (
    GAP_FACTOR,
    LEVEL_CHECK,
    READINGS,
    ROLLUPS,
    Resolution,
    rollup_sources,
    rollup_window,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    tag_id INTEGER NOT NULL,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rollup_1m (
    tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, min DOUBLE, max DOUBLE, avg DOUBLE,
    count BIGINT NOT NULL, last DOUBLE, last_ts TIMESTAMP, PRIMARY KEY (tag_id, bucket)
);
CREATE TABLE IF NOT EXISTS rollup_1h (
    tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, min DOUBLE, max DOUBLE, avg DOUBLE,
    count BIGINT NOT NULL, last DOUBLE, last_ts TIMESTAMP, minutes BIGINT, avg_sum DOUBLE,
    PRIMARY KEY (tag_id, bucket)
);
CREATE TABLE IF NOT EXISTS rollup_1h_levels (
    tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, level UTINYINT NOT NULL,
    minutes BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS latest (
    tag_id INTEGER PRIMARY KEY,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL
);
"""

# The hour's figures from its minutes, for the hours in `hours(tag_id, bucket)`: the rollup
# (the mean weighted by count, `last` from the newest minute), how many minutes have data and
# the sum of their means (an integral at minute resolution: kW-minutes for a power tag), and
# how many minutes ended on each whole value 0-15 (`LEVELS`: time in state of a state tag).
_HOUR_OF_MINUTES = """
    FROM rollup_1m m
    SEMI JOIN hours h ON m.tag_id = h.tag_id AND time_bucket(INTERVAL 1 HOUR, m.bucket) = h.bucket
    WHERE m.bucket >= (SELECT min(bucket) FROM hours)
      AND m.bucket < (SELECT max(bucket) FROM hours) + INTERVAL 1 HOUR
"""
_HOURS_SQL = (
    f"""
    INSERT OR REPLACE INTO rollup_1h
        (tag_id, bucket, min, max, avg, count, last, last_ts, minutes, avg_sum)
    SELECT m.tag_id, time_bucket(INTERVAL 1 HOUR, m.bucket), min(m.min), max(m.max),
           sum(m.avg * m.count) / sum(m.count), sum(m.count), arg_max(m.last, m.bucket),
           max(m.last_ts), count(*), sum(m.avg)
    {_HOUR_OF_MINUTES}
    GROUP BY ALL
    """,
    """
    DELETE FROM rollup_1h_levels l USING hours h
    WHERE l.tag_id = h.tag_id AND l.bucket = h.bucket
    """,
    f"""
    INSERT INTO rollup_1h_levels (tag_id, bucket, level, minutes)
    SELECT m.tag_id, time_bucket(INTERVAL 1 HOUR, m.bucket), CAST(m.last AS UTINYINT), count(*)
    {_HOUR_OF_MINUTES}
      AND {LEVEL_CHECK.format(v="m.last")}
    GROUP BY ALL
    """,
)

# A file from before a column or table was added gets it, filled from what it holds (a bucket
# whose raw rows retention removed keeps a NULL `last_ts`: any later reading is its last).
_LAST_TS = """
    ALTER TABLE {table} ADD COLUMN last_ts TIMESTAMP;
    UPDATE {table} SET last_ts = r.ts FROM (
        SELECT tag_id, time_bucket(INTERVAL {width}, ts) AS bucket, max(ts) AS ts
        FROM readings WHERE quality < 2 GROUP BY ALL
    ) AS r
    WHERE {table}.last_ts IS NULL AND {table}.tag_id = r.tag_id AND {table}.bucket = r.bucket;
"""
_ALL_HOURS = """
    CREATE OR REPLACE TEMP TABLE hours AS
    SELECT DISTINCT tag_id, time_bucket(INTERVAL 1 HOUR, bucket) AS bucket FROM rollup_1m
"""
_UPGRADES = (
    (("rollup_1m", "last_ts"), (_LAST_TS.format(table="rollup_1m", width="1 MINUTE"),)),
    (("rollup_1h", "last_ts"), (_LAST_TS.format(table="rollup_1h", width="1 HOUR"),)),
    (
        ("rollup_1h", "minutes"),
        (
            "ALTER TABLE rollup_1h ADD COLUMN minutes BIGINT",
            "ALTER TABLE rollup_1h ADD COLUMN avg_sum DOUBLE",
            _ALL_HOURS,
            *_HOURS_SQL,
            "DROP TABLE hours",
        ),
    ),
)

# An append is one transaction:
# 1. `fresh`: the batch's readings not stored yet. Uniqueness on (tag_id, ts) is an anti-join
#    against the stored rows in the batch's time range (the rows arrive in time order, so the
#    zone maps keep that range small), not a primary key: DuckDB's ART index cost about four
#    times the insert itself and lives in memory.
# 2. the new rows are stored and `latest` moves forward;
# 3. the minutes are merged, not recomputed: each touched minute folds in the aggregate of its
#    new GOOD and SUSPECT readings (min, max, count-weighted mean, the value at the newest
#    time), so a late reading costs its own rows, not a re-read of its minute;
# 4. the touched hours are recomputed from their minutes (at most 60 rows a tag).
_FRESH_SQL = """
    CREATE OR REPLACE TEMP TABLE fresh AS
    SELECT i.tag_id, i.ts, i.value, i.quality
    FROM (SELECT DISTINCT ON (tag_id, ts) tag_id, ts, value, quality FROM incoming) AS i
    ANTI JOIN (
        SELECT tag_id, ts FROM readings
        WHERE ts >= (SELECT min(ts) FROM incoming) AND ts <= (SELECT max(ts) FROM incoming)
    ) AS r ON i.tag_id = r.tag_id AND i.ts = r.ts
"""
_STORE_SQL = (
    "INSERT INTO readings SELECT tag_id, ts, value, quality FROM fresh",
    """
    INSERT INTO latest
    SELECT tag_id, max(ts), arg_max(value, ts), arg_max(quality, ts)
    FROM fresh GROUP BY tag_id
    ON CONFLICT (tag_id) DO UPDATE SET
        ts = excluded.ts, value = excluded.value, quality = excluded.quality
    WHERE excluded.ts > latest.ts
    """,
    """
    INSERT INTO rollup_1m (tag_id, bucket, min, max, avg, count, last, last_ts)
    SELECT tag_id, time_bucket(INTERVAL 1 MINUTE, ts) AS bucket, min(value), max(value),
           avg(value), count(*), arg_max(value, ts), max(ts)
    FROM fresh WHERE quality < 2 GROUP BY ALL
    ON CONFLICT (tag_id, bucket) DO UPDATE SET
        min = least(min, excluded.min),
        max = greatest(max, excluded.max),
        avg = (avg * count + excluded.avg * excluded.count) / (count + excluded.count),
        count = count + excluded.count,
        last = CASE WHEN last_ts IS NULL OR excluded.last_ts >= last_ts
                    THEN excluded.last ELSE last END,
        last_ts = greatest(last_ts, excluded.last_ts)
    """,
    """
    CREATE OR REPLACE TEMP TABLE hours AS
    SELECT DISTINCT tag_id, time_bucket(INTERVAL 1 HOUR, ts) AS bucket FROM fresh
    WHERE quality < 2
    """,
    *_HOURS_SQL,
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
        before = set(
            self._con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()
        )
        self._con.execute(_SCHEMA).fetchall()
        for column, statements in _UPGRADES:
            if ("rollup_1m", "bucket") in before and column not in before:
                for statement in statements:
                    self._con.execute(statement).fetchall()
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
                con.execute(_FRESH_SQL).fetchall()
                rows = con.execute("SELECT count(*) FROM fresh").fetchall()
                for statement in _STORE_SQL:
                    con.execute(statement).fetchall()
                con.unregister("incoming")
                con.execute("DROP TABLE fresh; DROP TABLE hours").fetchall()
                con.execute("COMMIT").fetchall()
            except BaseException:
                con.execute("ROLLBACK").fetchall()
                raise
        return int(rows[0][0]) if rows else 0

    def rebuild_hours(self) -> None:
        """Recompute every hour (rollup, minutes, mean sums, levels) from the minutes: after
        minute rollups were loaded in bulk (the OEE benchmark), or to repair a file."""
        with self._lock:
            for statement in (_ALL_HOURS, *_HOURS_SQL, "DROP TABLE hours"):
                self._con.execute(statement).fetchall()

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
        where = f"WHERE tag_id IN (SELECT unnest([{ids}])) AND {window}"
        extra = "" if resolution == "1m" else ", minutes, avg_sum"
        sources = rollup_sources(  # a semi-join on the ids and integer seconds: cheapest per row
            resolution,
            f"SELECT tag_id, epoch_us(bucket) // 1000000 AS t, min, max, avg, count, last{extra} "
            f"FROM {_ROLLUP_TABLES[resolution]} {where}",
            "SELECT tag_id, epoch_us(bucket) // 1000000 AS t, level, minutes "
            f"FROM rollup_1h_levels {where}",
        )
        with self._lock:  # a cursor of its own: the read does not hold up appends
            cursor = self._con.cursor()
        try:
            result: pa.Table = cursor.sql(
                f"{sources} SELECT * FROM ({query}) AS q"
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
        *,
        newest_first: bool = False,
    ) -> pa.Table:
        return quality_sql.gaps(
            self._rows, quality_sql.DUCKDB, sampling_ms, start, end, factor, limit, newest_first
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
                if resolution == "1h":  # the hours' levels go with them
                    self._con.execute(
                        "DELETE FROM rollup_1h_levels WHERE bucket < $cutoff",
                        {"cutoff": _naive_utc(now) - age},
                    ).fetchall()
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
