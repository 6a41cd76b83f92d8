"""The embedded telemetry store: one DuckDB file in the data directory, columns end to end.

DuckDB takes one writer per file, so one process owns it (the embedded deployment); a
production deployment uses the PostgreSQL store. Every append is one transaction, committed
before the caller acknowledges the readings.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from sandan.telemetry.store import READINGS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    tag_id INTEGER NOT NULL,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL,
    PRIMARY KEY (tag_id, ts)
);
CREATE TABLE IF NOT EXISTS latest (
    tag_id INTEGER PRIMARY KEY,
    ts TIMESTAMP NOT NULL,
    value DOUBLE,
    quality UTINYINT NOT NULL
);
"""


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

    def count(self) -> int:
        with self._lock:
            rows = self._con.execute("SELECT count(*) FROM readings").fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        with self._lock:
            self._con.close()
