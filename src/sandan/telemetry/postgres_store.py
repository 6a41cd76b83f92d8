"""The production telemetry store: readings in PostgreSQL, one range partition per UTC day.

Tables live in their own schema (``telemetry`` by default):

- ``readings`` (tag_id, ts, value, quality), unique on (tag_id, ts), partitioned by day; a
  partition is created the first time a batch touches its day, and retention drops whole days;
- ``latest``, the newest reading of each tag;
- ``rollup_1m``, merged with each batch's new readings, and ``rollup_1h``, recomputed from
  its minutes, so a rollup always equals an aggregate of the raw GOOD and SUSPECT readings
  (late readings included);
  ``rollup_1h_levels``, the minutes of each hour per whole value 0-15 (time in state).

Timestamps are naive UTC (``timestamp`` without time zone, microseconds), as in the Arrow
schemas. No Python object is made per reading: a batch goes in as a binary COPY stream built
from its numpy columns, and results come back as one packed bytea (each row's fields in their
binary send format) read with numpy. Every append is one transaction, committed before the
call returns.

Calls may come from many threads (FastAPI runs sync routes in a thread pool): each call
borrows a connection from a small pool.
"""

from __future__ import annotations

import io
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import errors
from psycopg.pq import TransactionStatus

from sandan.telemetry import quality_sql
from sandan.telemetry.store import (
    BAD,
    GAP_FACTOR,
    LEVEL_CHECK,
    READINGS,
    ROLLUPS,
    Resolution,
    rollup_sources,
    rollup_window,
)

Connection = psycopg.Connection[tuple[Any, ...]]

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 (PostgreSQL's epoch) in Unix microseconds
_DAY_US = 86_400_000_000
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = _COPY_SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"

# The flags a staging row carries, worked out in numpy before the copy.
_LATEST = 1  # the newest reading of its tag in the batch
_FIRST_MINUTE = 2  # the first GOOD/SUSPECT reading of its (tag, minute) in the batch
_FIRST_HOUR = 4  # the first GOOD/SUSPECT reading of its (tag, hour) in the batch

# One binary COPY tuple of the staging table: a field count, then (length, bytes) per field.
_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("tag_len", ">i4"),
        ("tag_id", ">i4"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("value_len", ">i4"),
        ("value", ">f8"),
        ("quality_len", ">i4"),
        ("quality", ">i2"),
        ("flags_len", ">i4"),
        ("flags", ">i2"),
    ]
)
# The same tuple with a NULL value (length -1, no bytes).
_ROW_NULL_VALUE = np.dtype([field for field in _ROW.descr if field[0] != "value"])

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PARTITION_NAME = re.compile(r"readings_(\d{8})")
_ROLLUP_TABLES: dict[str, str] = {"1m": "rollup_1m", "1h": "rollup_1h"}

_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS {s}.readings (
        tag_id integer NOT NULL,
        ts timestamp NOT NULL,
        value double precision,
        quality smallint NOT NULL,
        PRIMARY KEY (tag_id, ts)
    ) PARTITION BY RANGE (ts)
    """,
    """
    CREATE TABLE IF NOT EXISTS {s}.latest (
        tag_id integer PRIMARY KEY,
        ts timestamp NOT NULL,
        value double precision,
        quality smallint NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {s}.rollup_1m (
        tag_id integer NOT NULL, bucket timestamp NOT NULL,
        min double precision, max double precision, avg double precision,
        count bigint NOT NULL, last double precision,
        PRIMARY KEY (tag_id, bucket)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS {s}.rollup_1h (
        tag_id integer NOT NULL, bucket timestamp NOT NULL,
        min double precision, max double precision, avg double precision,
        count bigint NOT NULL, last double precision,
        PRIMARY KEY (tag_id, bucket)
    )
    """,
    # Added later: a store created before gets them, filled from its rows (`_BACKFILL_…`).
    "ALTER TABLE {s}.rollup_1m ADD COLUMN IF NOT EXISTS last_ts timestamp",
    """
    ALTER TABLE {s}.rollup_1h
        ADD COLUMN IF NOT EXISTS minutes bigint, ADD COLUMN IF NOT EXISTS avg_sum double precision
    """,
    """
    CREATE TABLE IF NOT EXISTS {s}.rollup_1h_levels (
        tag_id integer NOT NULL, bucket timestamp NOT NULL, level smallint NOT NULL,
        minutes bigint NOT NULL, PRIMARY KEY (tag_id, bucket, level)
    )
    """,
)

# Per connection: the staging table a batch is copied into. Each row carries flags (see above)
# so that the statements below need no sort or grouping over the whole batch.
_SESSION_TABLES = (
    """
    CREATE TEMP TABLE IF NOT EXISTS sandan_stage (
        tag_id integer, ts timestamp, value double precision, quality smallint, flags smallint
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS sandan_fresh (
        tag_id integer, ts timestamp, value double precision, quality smallint
    ) ON COMMIT DELETE ROWS
    """,
)

# The batch holds no two readings with the same (tag_id, ts) (the encoder keeps the last), so
# a plain INSERT is tried first (inside a savepoint); only when it meets a reading already
# stored does the batch go again with ON CONFLICT DO NOTHING, which is markedly slower.
_INSERT = """
INSERT INTO {s}.readings (tag_id, ts, value, quality)
SELECT tag_id, ts, value, quality FROM pg_temp.sandan_stage
"""
# The fallback keeps the rows it stored, for the minutes to merge.
_INSERT_NEW = f"""
WITH stored AS ({_INSERT} ON CONFLICT (tag_id, ts) DO NOTHING
                RETURNING tag_id, ts, value, quality)
INSERT INTO pg_temp.sandan_fresh SELECT * FROM stored
"""

# A reading already stored is never newer than `latest`, so the batch's newest per tag will do.
_LATEST_SQL = f"""
INSERT INTO {{s}}.latest AS l (tag_id, ts, value, quality)
SELECT tag_id, ts, value, quality FROM pg_temp.sandan_stage WHERE flags & {_LATEST} <> 0
ON CONFLICT (tag_id) DO UPDATE
    SET ts = excluded.ts, value = excluded.value, quality = excluded.quality
    WHERE excluded.ts > l.ts
"""

# Merge each touched minute with the batch's new GOOD and SUSPECT readings (`{new}`: the staged
# batch, or the rows the fallback stored): min and max of both, the mean weighted by count (in
# numeric, see `_WEIGHTED_AVG`), `last` from whichever has the newer `last_ts`. A late reading
# costs its own row, not a re-read of its minute's raw rows (30 times the new rows at 10 Hz).
_MERGED_MEAN = "(r.avg::numeric * r.count + excluded.avg::numeric * excluded.count)" + (
    " / (r.count + excluded.count)"
)
_ROLLUP_1M = f"""
INSERT INTO {{s}}.rollup_1m AS r (tag_id, bucket, min, max, avg, count, last, last_ts)
SELECT tag_id, date_trunc('minute', ts), min(value), max(value), avg(value), count(*),
       (array_agg(value ORDER BY ts DESC))[1], max(ts)
FROM {{new}} WHERE quality < {BAD}
GROUP BY 1, 2
ON CONFLICT (tag_id, bucket) DO UPDATE SET
    min = LEAST(r.min, excluded.min), max = GREATEST(r.max, excluded.max),
    avg = CASE WHEN abs({_MERGED_MEAN}) < 2.2250738585072014e-308 THEN 0::float8
               ELSE ({_MERGED_MEAN})::float8 END,
    count = r.count + excluded.count,
    last = CASE WHEN r.last_ts IS NULL OR excluded.last_ts >= r.last_ts
                THEN excluded.last ELSE r.last END,
    last_ts = GREATEST(r.last_ts, excluded.last_ts)
"""
# A store from before `last_ts`: the time of each minute's newest counted raw reading (a
# minute whose raw rows retention removed keeps NULL: any later reading becomes its last).
_BACKFILL_LAST_TS = f"""
UPDATE {{s}}.rollup_1m m SET last_ts = x.ts
FROM (
    SELECT tag_id, date_trunc('minute', ts) AS bucket, max(ts) AS ts FROM {{s}}.readings
    WHERE quality < {BAD} GROUP BY 1, 2
) x
WHERE m.last_ts IS NULL AND m.tag_id = x.tag_id AND m.bucket = x.bucket
"""

# The count-weighted mean of the minutes, in numeric: float8 division raises "underflow" when
# a subnormal sum is divided (PostgreSQL checks, IEEE would flush); below the smallest normal
# double the mean is taken as 0, as float arithmetic elsewhere would round it.
_WEIGHTED_MEAN = "sum(m.avg::numeric * m.count) / nullif(sum(m.count), 0)"
_WEIGHTED_AVG = (
    f"CASE WHEN abs({_WEIGHTED_MEAN}) < 2.2250738585072014e-308 THEN 0::float8 "
    f"ELSE ({_WEIGHTED_MEAN})::float8 END"
)

# Then each touched hour from its (just recomputed) minutes: the same aggregate as over the raw
# rows (the average weighted by count), from 60 rows an hour instead of one per reading; with
# the minutes that have data and the sum of their means, and the minutes that ended on each
# whole value 0-15 (`store.LEVELS`).
_TOUCHED_HOURS = f"""
    SELECT tag_id, date_trunc('hour', ts) AS hour FROM pg_temp.sandan_stage
    WHERE flags & {_FIRST_HOUR} <> 0
"""
_ROLLUP_1H = f"""
INSERT INTO {{s}}.rollup_1h AS r (tag_id, bucket, min, max, avg, count, last, minutes, avg_sum)
SELECT h.tag_id, h.hour, a.min, a.max, a.avg, a.count, a.last, a.minutes, a.avg_sum
FROM ({{hours}}) h
CROSS JOIN LATERAL (
    SELECT min(m.min) AS min, max(m.max) AS max,
           {_WEIGHTED_AVG} AS avg, sum(m.count)::bigint AS count,
           (array_agg(m.last ORDER BY m.bucket DESC))[1] AS last,
           count(*) AS minutes, sum(m.avg) AS avg_sum
    FROM {{s}}.rollup_1m m
    WHERE m.tag_id = h.tag_id AND m.bucket >= h.hour AND m.bucket < h.hour + interval '1 hour'
) a
WHERE a.count > 0
ON CONFLICT (tag_id, bucket) DO UPDATE SET
    min = excluded.min, max = excluded.max, avg = excluded.avg,
    count = excluded.count, last = excluded.last,
    minutes = excluded.minutes, avg_sum = excluded.avg_sum
"""
_LEVELS_1H = (
    """
    DELETE FROM {s}.rollup_1h_levels l USING ({hours}) h
    WHERE l.tag_id = h.tag_id AND l.bucket = h.hour
    """,
    f"""
    INSERT INTO {{s}}.rollup_1h_levels (tag_id, bucket, level, minutes)
    SELECT m.tag_id, h.hour, m.last::smallint, count(*)
    FROM ({{hours}}) h JOIN {{s}}.rollup_1m m
      ON m.tag_id = h.tag_id AND m.bucket >= h.hour AND m.bucket < h.hour + interval '1 hour'
    WHERE {LEVEL_CHECK.format(v="m.last")}
    GROUP BY m.tag_id, h.hour, m.last
    """,
)
# A store from before `minutes`, `avg_sum` and the levels: every hour, once.
_BACKFILL_HOURS = """
    SELECT DISTINCT tag_id, date_trunc('hour', bucket) AS hour FROM {s}.rollup_1m
"""


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _first_of_runs(*keys: np.ndarray) -> np.ndarray:
    """For rows sorted by `keys`: True where a row starts a new run of equal keys."""
    n = len(keys[0])
    start = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for key in keys:
            same &= key[1:] == key[:-1]
        start[1:] = ~same
    return start


def _encode(batch: pa.Table) -> tuple[bytes, list[date]]:
    """A READINGS table as one binary COPY stream for the staging table, and its UTC days.

    Rows go out sorted by (tag_id, ts). Of two readings with the same (tag_id, ts) the later
    one in the batch is kept, as refine keeps it.
    """
    tag_id = batch.column("tag_id").to_numpy()
    ts = batch.column("ts").cast(pa.int64()).to_numpy()
    order = np.lexsort((ts, tag_id))  # stable: equal keys keep their batch order
    tag_id, ts = tag_id[order], ts[order]
    last = np.ones(len(order), dtype=bool)  # last of its (tag_id, ts) run: the one kept
    last[:-1] = _first_of_runs(tag_id, ts)[1:]
    order, tag_id, ts = order[last], tag_id[last], ts[last]

    value_column = batch.column("value")
    value = value_column.fill_null(0.0).to_numpy()[order]
    null = value_column.is_null().to_numpy(zero_copy_only=False)[order]
    quality = batch.column("quality").to_numpy()[order]

    flags = np.zeros(len(order), dtype=np.int16)
    flags[np.r_[_first_of_runs(tag_id)[1:], True]] |= _LATEST  # last row of each tag
    counted = np.flatnonzero(quality < BAD)
    for flag, width in ((_FIRST_MINUTE, 60_000_000), (_FIRST_HOUR, 3_600_000_000)):
        bucket = ts[counted] // width
        flags[counted[_first_of_runs(tag_id[counted], bucket)]] |= flag

    parts = [_COPY_HEADER]
    for dtype, rows in ((_ROW, np.flatnonzero(~null)), (_ROW_NULL_VALUE, np.flatnonzero(null))):
        if not len(rows):
            continue
        out = np.empty(len(rows), dtype=dtype)
        out["n"] = 5
        out["tag_len"] = 4
        out["tag_id"] = tag_id[rows]
        out["ts_len"] = 8
        out["ts"] = ts[rows] - _PG_EPOCH_US
        if dtype is _ROW:
            out["value_len"] = 8
            out["value"] = value[rows]
        else:
            out["value_len"] = -1
        out["quality_len"] = 2
        out["quality"] = quality[rows]
        out["flags_len"] = 2
        out["flags"] = flags[rows]
        parts.append(out.tobytes())
    parts.append(_COPY_TRAILER)
    epoch = date(1970, 1, 1)
    days = [epoch + timedelta(days=int(day)) for day in np.unique(ts // _DAY_US)]
    return b"".join(parts), days


# How the columns read back are packed by the server, and how numpy reads them: a nullable
# double travels as its value (NaN when NULL) and a NULL flag, so that every row has one width.
_PACK: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "int2": ("int2send({c})", [("{c}", ">i2")]),
    "int4": ("int4send({c})", [("{c}", ">i4")]),
    "int8": ("int8send({c})", [("{c}", ">i8")]),
    "timestamp": ("timestamp_send({c})", [("{c}", ">i8")]),
    "float8": (
        "float8send(coalesce({c}, 'NaN'::float8)) || boolsend({c} IS NULL)",
        [("{c}", ">f8"), ("{c}_null", "u1")],
    ),
}
_READING_COLUMNS = (
    ("tag_id", "int4"),
    ("ts", "timestamp"),
    ("value", "float8"),
    ("quality", "int2"),
)
_ROLLUP_COLUMNS = (
    ("tag_id", "int4"),
    ("bucket", "timestamp"),
    ("min", "float8"),
    ("max", "float8"),
    ("avg", "float8"),
    ("count", "int8"),
    ("last", "float8"),
)
# Rows of one result are packed into a single bytea (at most 1 GB), so exports go window by
# window: an hour of raw readings, a day of minutes, thirty days of hours.
_EXPORT_WINDOW = {"raw": timedelta(hours=1), "1m": timedelta(days=1), "1h": timedelta(days=30)}


def _packed_query(columns: Sequence[tuple[str, str]], inner: str) -> tuple[str, np.dtype]:
    """SQL folding the rows of `inner` (in its order) into one bytea, and the numpy row type."""
    parts: list[str] = []
    fields: list[tuple[str, str]] = []
    for name, kind in columns:
        expression, layout = _PACK[kind]
        parts.append(expression.format(c=f'"{name}"'))
        fields += [(field.format(c=name), dtype) for field, dtype in layout]
    # An aggregate reads a sorted subquery in its order (the usual PostgreSQL idiom); the
    # caller checks the order anyway.
    query = f"SELECT string_agg({' || '.join(parts)}, ''::bytea) FROM ({inner}) AS q"
    return query, np.dtype(fields)


def _in_order(rows: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """`rows` sorted by `keys` (already so in practice: this only checks, cheaply)."""
    if len(rows) < 2:
        return rows
    values = [rows[key].astype(np.int64) for key in keys]
    later = np.zeros(len(rows) - 1, dtype=bool)  # row i+1 sorts strictly after row i
    tied = np.ones(len(rows) - 1, dtype=bool)
    for value in values:
        later |= tied & (value[1:] > value[:-1])
        tied &= value[1:] == value[:-1]
    if bool(np.all(later | tied)):
        return rows
    return rows[np.lexsort(values[::-1])]


def _timestamps(pg_us: np.ndarray) -> pa.Array:
    return pa.array((pg_us.astype(np.int64) + _PG_EPOCH_US).view("datetime64[us]"))


def _doubles(rows: np.ndarray, name: str) -> pa.Array:
    return pa.array(
        rows[name].astype(np.float64), type=pa.float64(), mask=rows[f"{name}_null"].astype(bool)
    )


def _readings_table(rows: np.ndarray) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(rows["tag_id"].astype(np.int32), pa.int32()),
            _timestamps(rows["ts"]),
            _doubles(rows, "value"),
            pa.array(rows["quality"].astype(np.uint8), pa.uint8()),
        ],
        schema=READINGS,
    )


def _rollups_table(rows: np.ndarray) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(rows["tag_id"].astype(np.int32), pa.int32()),
            _timestamps(rows["bucket"]),
            _doubles(rows, "min"),
            _doubles(rows, "max"),
            _doubles(rows, "avg"),
            pa.array(rows["count"].astype(np.int64), pa.int64()),
            _doubles(rows, "last"),
        ],
        schema=ROLLUPS,
    )


class PostgresStore:
    """Readings in PostgreSQL, unique on (tag_id, ts), with latest values and rollups."""

    def __init__(self, url: str, *, schema: str = "telemetry", pool_size: int = 4) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"not a plain schema name: {schema!r}")
        # Accept SQLAlchemy-style URLs (postgresql+psycopg://) too.
        self.url = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
        self.schema = schema
        self._s = f'"{schema}"'
        # Serialises DDL on this schema (tables, partitions) across processes.
        self._ddl_lock = zlib.crc32(f"sandan.telemetry:{schema}".encode()) - 2**31
        self._pool_size = pool_size
        self._slots = threading.BoundedSemaphore(pool_size)
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        self._closed = False
        self._days: set[date] = set()  # day partitions known to exist
        self.ensure_schema()

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> Connection:
        conn = psycopg.connect(self.url, autocommit=True)
        try:
            # Naive timestamps are UTC; JIT compilation only slows these short statements down.
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute("SET jit = off")
            for statement in _SESSION_TABLES:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Borrow a connection (autocommit: use conn.transaction() around several statements)."""
        with self._slots:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the telemetry store is closed")
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = self._connect()
            try:
                yield conn
            finally:
                reusable = (
                    not conn.closed
                    and not conn.broken
                    and conn.info.transaction_status == TransactionStatus.IDLE
                )
                with self._lock:
                    if reusable and not self._closed:
                        self._idle.append(conn)
                    else:
                        reusable = False
                if not reusable:
                    conn.close()

    def _sql(self, template: str) -> str:
        return template.format(s=self._s)

    def _fetch(
        self,
        conn: Connection,
        columns: Sequence[tuple[str, str]],
        inner: str,
        params: Sequence[Any],
        order: Sequence[str],
    ) -> np.ndarray:
        query, dtype = _packed_query(columns, inner)
        with conn.cursor(binary=True) as cur:
            row = cur.execute(query, params).fetchone()
        data = row[0] if row and row[0] is not None else b""
        return _in_order(np.frombuffer(data, dtype=dtype), order)

    # -- schema and partitions -----------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the schema and tables if they are missing (safe to run concurrently)."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._ddl_lock,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._s}")
            had_last_ts = conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'rollup_1m' AND column_name = 'last_ts'",
                (self._s.strip('"'),),
            ).fetchone()
            for statement in _TABLES:
                conn.execute(self._sql(statement))
            if not had_last_ts:
                conn.execute(self._sql(_BACKFILL_LAST_TS))
            stale = conn.execute(
                self._sql("SELECT 1 FROM {s}.rollup_1h WHERE minutes IS NULL LIMIT 1")
            ).fetchone()
            if stale:
                for statement in (_ROLLUP_1H, *_LEVELS_1H):
                    conn.execute(self._sql(statement.replace("{hours}", _BACKFILL_HOURS)))

    def _partition(self, day: date) -> str:
        return f"{self._s}.readings_{day:%Y%m%d}"

    def _ensure_partitions(self, conn: Connection, days: list[date]) -> None:
        """Create the day partitions a batch needs, in their own short transaction."""
        with self._lock:
            missing = [day for day in days if day not in self._days]
        if not missing:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._ddl_lock,))
            for day in missing:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._partition(day)} "
                    f"PARTITION OF {self._s}.readings FOR VALUES "
                    f"FROM ('{day.isoformat()}') TO ('{(day + timedelta(1)).isoformat()}')"
                )
        with self._lock:
            self._days.update(missing)

    def partitions(self) -> list[date]:
        """The days that have a readings partition, oldest first."""
        with self._connection() as conn:
            return self._list_partitions(conn)

    def _list_partitions(self, conn: Connection) -> list[date]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            (f"{self._s}.readings",),
        ).fetchall()
        days = []
        for (name,) in rows:
            match = _PARTITION_NAME.fullmatch(name)
            if match:
                days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
        return sorted(days)

    # -- the protocol --------------------------------------------------------------------

    def append(self, batch: pa.Table) -> int:
        if batch.num_rows == 0:
            return 0
        stream, days = _encode(batch.select(READINGS.names).cast(READINGS))
        with self._connection() as conn:
            try:
                self._ensure_partitions(conn, days)
                return self._append(conn, stream)
            except errors.CheckViolation:
                # "no partition of relation found for row": another process's retention
                # dropped a day this process believed to exist. Forget it, recreate, retry.
                with self._lock:
                    self._days.difference_update(days)
                self._ensure_partitions(conn, days)
                return self._append(conn, stream)

    def _append(self, conn: Connection, stream: bytes) -> int:
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy("COPY pg_temp.sandan_stage FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(stream)
            new = "pg_temp.sandan_stage"
            try:
                with conn.transaction():  # a savepoint
                    cur.execute(self._sql(_INSERT))
            except errors.UniqueViolation:
                cur.execute(self._sql(_INSERT_NEW))
                new = "pg_temp.sandan_fresh"
            inserted = cur.rowcount
            cur.execute(self._sql(_LATEST_SQL))
            cur.execute(self._sql(_ROLLUP_1M.replace("{new}", new)))
            for statement in (_ROLLUP_1H, *_LEVELS_1H):
                cur.execute(self._sql(statement.replace("{hours}", _TOUCHED_HOURS)))
        return inserted

    def latest(self, tag_ids: list[int]) -> pa.Table:
        if not tag_ids:
            return READINGS.empty_table()
        inner = (
            f"SELECT tag_id, ts, value, quality FROM {self._s}.latest "
            "WHERE tag_id = ANY(%s::int4[]) ORDER BY tag_id"
        )
        with self._connection() as conn:
            rows = self._fetch(conn, _READING_COLUMNS, inner, [list(tag_ids)], ["tag_id"])
        return _readings_table(rows)

    def raw(self, tag_ids: list[int], start: datetime, end: datetime, limit: int) -> pa.Table:
        if not tag_ids or limit <= 0:
            return READINGS.empty_table()
        with self._connection() as conn:
            rows = self._raw(conn, tag_ids, _naive_utc(start), _naive_utc(end), limit)
        return _readings_table(rows)

    def _raw(
        self, conn: Connection, tag_ids: list[int], start: datetime, end: datetime, limit: int
    ) -> np.ndarray:
        inner = (
            f"SELECT tag_id, ts, value, quality FROM {self._s}.readings "
            "WHERE tag_id = ANY(%s::int4[]) AND ts >= %s AND ts < %s "
            "ORDER BY ts, tag_id LIMIT %s"
        )
        params = [list(tag_ids), start, end, limit]
        return self._fetch(conn, _READING_COLUMNS, inner, params, ["ts", "tag_id"])

    def rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution
    ) -> pa.Table:
        if not tag_ids:
            return ROLLUPS.empty_table()
        with self._connection() as conn:
            rows = self._rollups(conn, tag_ids, _naive_utc(start), _naive_utc(end), resolution)
        return _rollups_table(rows)

    def _rollups(
        self,
        conn: Connection,
        tag_ids: list[int],
        start: datetime,
        end: datetime,
        resolution: Resolution,
    ) -> np.ndarray:
        inner = (
            f"SELECT tag_id, bucket, min, max, avg, count, last "
            f"FROM {self._s}.{_ROLLUP_TABLES[resolution]} "
            "WHERE tag_id = ANY(%s::int4[]) AND bucket >= %s AND bucket < %s "
            "ORDER BY bucket, tag_id"
        )
        params = [list(tag_ids), start, end]
        return self._fetch(conn, _ROLLUP_COLUMNS, inner, params, ["bucket", "tag_id"])

    def aggregate_rollups(
        self, tag_ids: list[int], start: datetime, end: datetime, resolution: Resolution, query: str
    ) -> pa.Table:
        ids, window = rollup_window(tag_ids, start, end)
        where = f"WHERE tag_id = ANY('{{{ids if tag_ids else ''}}}'::int4[]) AND {window}"
        seconds = "CAST(EXTRACT(EPOCH FROM bucket) AS BIGINT) AS t"
        extra = "" if resolution == "1m" else ", minutes, avg_sum"
        sources = rollup_sources(
            resolution,
            f"SELECT tag_id, {seconds}, min, max, avg, count, last{extra} "
            f"FROM {self._s}.{_ROLLUP_TABLES[resolution]} {where}",
            f"SELECT tag_id, {seconds}, level, minutes FROM {self._s}.rollup_1h_levels {where}",
        )
        statement = f"{sources} SELECT * FROM ({query}) AS q"
        copy_out = f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER)"
        with self._connection() as conn, conn.cursor() as cur, cur.copy(copy_out) as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        # Every column as a double: inferred from the first block, a sum printed "60" would
        # fail on a later "12.5" (the caller casts the columns it needs).
        names = data.split(b"\n", 1)[0].decode().split(",")
        doubles = pa_csv.ConvertOptions(column_types={n: pa.float64() for n in names})
        return pa_csv.read_csv(io.BytesIO(data), convert_options=doubles)

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
        dialect = quality_sql.postgres(self._s)
        return quality_sql.gaps(
            self._rows, dialect, sampling_ms, start, end, factor, limit, newest_first
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
        dialect = quality_sql.postgres(self._s)
        return quality_sql.quality_daily(
            self._rows, dialect, sampling_ms, first, last, until, factor, rejected
        )

    def _rows(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(query, params).fetchall()

    def apply_retention(self, now: datetime, keep: dict[str, timedelta]) -> dict[str, int]:
        """Raw: drop every day partition wholly before the cutoff, then delete the older rows
        of the boundary day. Rollups: delete the buckets that start before their cutoff."""
        unknown = set(keep) - {"raw", *_ROLLUP_TABLES}
        if unknown:
            raise ValueError(f"unknown resolutions {sorted(unknown)}")
        deleted: dict[str, int] = {}
        with self._connection() as conn:
            for resolution, age in keep.items():
                cutoff = _naive_utc(now) - age
                if resolution == "raw":
                    deleted[resolution] = self._drop_raw(conn, cutoff)
                    continue
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        f"DELETE FROM {self._s}.{_ROLLUP_TABLES[resolution]} WHERE bucket < %s",
                        (cutoff,),
                    )
                    deleted[resolution] = cur.rowcount
                    if resolution == "1h":  # the hours' levels go with them
                        cur.execute(
                            f"DELETE FROM {self._s}.rollup_1h_levels WHERE bucket < %s", (cutoff,)
                        )
        return deleted

    def _drop_raw(self, conn: Connection, cutoff: datetime) -> int:
        dropped: list[date] = []
        count = 0
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._ddl_lock,))
            for day in self._list_partitions(conn):
                if datetime.combine(day + timedelta(1), datetime.min.time()) > cutoff:
                    continue
                row = cur.execute(f"SELECT count(*) FROM {self._partition(day)}").fetchone()
                count += int(row[0]) if row else 0
                cur.execute(f"DROP TABLE {self._partition(day)}")
                dropped.append(day)
            cur.execute(f"DELETE FROM {self._s}.readings WHERE ts < %s", (cutoff,))
            count += cur.rowcount
        with self._lock:
            self._days.difference_update(dropped)
        return count

    def export_parquet(
        self,
        path: Path,
        tag_ids: list[int],
        start: datetime,
        end: datetime,
        resolution: Literal["raw", "1m", "1h"] = "raw",
    ) -> int:
        """Written window by window, so neither side holds the whole selection in memory."""
        schema = READINGS if resolution == "raw" else ROLLUPS
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with pq.ParquetWriter(path, schema) as writer, self._connection() as conn:
            for window_start, window_end in self._export_windows(
                conn, tag_ids, _naive_utc(start), _naive_utc(end), resolution
            ):
                if resolution == "raw":
                    rows = self._raw(conn, tag_ids, window_start, window_end, 2**62)
                    table = _readings_table(rows)
                else:
                    rows = self._rollups(conn, tag_ids, window_start, window_end, resolution)
                    table = _rollups_table(rows)
                if table.num_rows:
                    writer.write_table(table)
                    written += table.num_rows
            if not written:
                writer.write_table(schema.empty_table())
        return written

    def _export_windows(
        self,
        conn: Connection,
        tag_ids: list[int],
        start: datetime,
        end: datetime,
        resolution: str,
    ) -> Iterator[tuple[datetime, datetime]]:
        """Consecutive [from, to) windows covering the selected rows that exist."""
        if not tag_ids or start >= end:
            return
        table, column = (
            ("readings", "ts") if resolution == "raw" else (_ROLLUP_TABLES[resolution], "bucket")
        )
        # The first and last row in range, one index probe per tag.
        row = conn.execute(
            f"SELECT min(first), max(last) FROM unnest(%s::int4[]) AS t(id), LATERAL ("
            f"  SELECT min({column}) AS first, max({column}) AS last FROM {self._s}.{table}"
            f"  WHERE tag_id = t.id AND {column} >= %s AND {column} < %s) AS r",
            (list(tag_ids), start, end),
        ).fetchone()
        if row is None or row[0] is None:
            return
        first, last = row
        days = set(self._list_partitions(conn)) if resolution == "raw" else None
        step = _EXPORT_WINDOW[resolution]
        window = max(start, first)
        while window <= last:
            following = min(window + step, end)
            if days is None or window.date() in days or following.date() in days:
                yield window, following
            window = following

    def count(self) -> int:
        """How many readings are stored."""
        with self._connection() as conn:
            row = conn.execute(f"SELECT count(*) FROM {self._s}.readings").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the pooled connections; a connection still in use closes when returned."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
