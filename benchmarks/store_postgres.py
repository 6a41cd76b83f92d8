"""The PostgreSQL telemetry store's append, as a production ingest process uses it.

Our figure: readings/s through `PostgresStore.append` (binary COPY into a staging table, the
insert into the day partitions, latest values, minute and hour rollups with the hours'
levels, one transaction a batch) for flushes of 10,000 tags × 10 readings, the readings of
each batch one second later than the last (an hour of a 10 Hz plant in `--full`).
Reference, same run, same server: the same rows sent by a bare binary COPY into a table with
the same primary key and nothing else (no partitions, latest values or rollups), one
transaction a batch: what PostgreSQL itself takes to store the rows.

Needs PostgreSQL: `--url` (default: SANDAN_TEST_DATABASE_URL, else the local `test`
database). Works in schemas of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid

import numpy as np
import psycopg
import pyarrow as pa

from sandan.telemetry.postgres_store import PostgresStore, _encode
from sandan.telemetry.store import READINGS

TAGS, PER = 10_000, 10
T0 = np.datetime64("2026-11-02T00:00:00", "us")


def _batches(count: int) -> list[pa.Table]:
    rng = np.random.default_rng(7)
    tags = np.tile(np.arange(1, TAGS + 1, dtype=np.int32), PER)
    out = []
    for i in range(count):
        offsets = (i * PER + np.repeat(np.arange(PER), TAGS)) * 100_000  # 10 Hz
        out.append(
            pa.table(
                {
                    "tag_id": tags,
                    "ts": pa.array(T0 + offsets.astype("timedelta64[us]"), pa.timestamp("us")),
                    "value": rng.integers(0, 5, len(tags)).astype(np.float64),
                    "quality": np.zeros(len(tags), np.uint8),
                },
                schema=READINGS,
            )
        )
    return out


def _reference(url: str, schema: str, batches: list[pa.Table]) -> float:
    """Seconds for bare binary COPYs of the batches into (tag_id, ts) PRIMARY KEY."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            f'CREATE TABLE "{schema}".readings (tag_id integer NOT NULL, ts timestamp NOT NULL,'
            " value double precision, quality smallint NOT NULL, flags smallint,"
            " PRIMARY KEY (tag_id, ts))"
        )
        streams = [_encode(b)[0] for b in batches]  # the same bytes our store copies
        started = time.perf_counter()
        for stream in streams:
            with conn.transaction(), conn.cursor() as cur:
                copy_sql = f'COPY "{schema}".readings FROM STDIN (FORMAT BINARY)'
                with cur.copy(copy_sql) as copy:
                    copy.write(stream)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    default = os.environ.get(
        "SANDAN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ).replace("postgresql+psycopg://", "postgresql://", 1)
    parser.add_argument("--url", default=default)
    parser.add_argument("--full", action="store_true", help="360 batches: an hour at 10 Hz")
    args = parser.parse_args()
    batches = _batches(360 if args.full else 60)
    readings = sum(b.num_rows for b in batches)
    ours_schema, ref_schema = (f"bench_{uuid.uuid4().hex[:8]}_{k}" for k in ("ours", "ref"))
    try:
        store = PostgresStore(args.url, schema=ours_schema)
        try:
            store.append(batches[0].slice(0, 1))  # the day partition and the pool, set up
            started = time.perf_counter()
            stored = sum(store.append(b) for b in batches)
            ours = time.perf_counter() - started
        finally:
            store.close()
        assert stored == readings - 1, (stored, readings)
        reference = _reference(args.url, ref_schema, batches)
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            for schema in (ours_schema, ref_schema):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    rate, ref_rate = readings / ours, readings / reference
    print(
        json.dumps(
            {
                "metric": "postgres_store_append_readings_per_second",
                "value": round(rate),
                "unit": "readings/s",
                "reference": round(ref_rate),
                "reference_name": "bare binary COPY of the same rows into a table with the "
                "same primary key, one transaction a batch, same server",
                "ratio": round(rate / ref_rate, 3),
                "details": {
                    "batches": len(batches),
                    "readings_per_batch": TAGS * PER,
                    "tags": TAGS,
                    "seconds": round(ours, 2),
                    "reference_seconds": round(reference, 2),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "cores": os.cpu_count(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
