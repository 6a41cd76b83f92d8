"""The PostgreSQL store: unique on (tag, ts), latest per tag, day partitions, rollups that equal
aggregates of the raw rows, retention, Parquet export, durable across reopen.

Runs against SANDAN_TEST_DATABASE_URL (CI sets it), in a schema of its own for this run.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import need_service
from sandan.telemetry.postgres_store import PostgresStore
from sandan.telemetry.store import BAD, GOOD, READINGS, ROLLUPS, SUSPECT

SCHEMA = f"telemetry_test_{os.getpid()}"
T0 = datetime(2026, 11, 1, 23, 0)  # an hour before midnight: batches span two days
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

Row = tuple[int, int, float | None, int]  # tag, seconds after T0, value, quality


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    base = os.environ.get("SANDAN_TEST_DATABASE_URL")
    if not base:
        need_service("set SANDAN_TEST_DATABASE_URL to run the PostgreSQL telemetry store tests")
    assert base
    url = base.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        need_service(f"PostgreSQL at {url} unavailable: {exc}")
    yield url
    _drop_schema(url)


def _drop_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')


def _fresh(url: str) -> PostgresStore:
    _drop_schema(url)
    return PostgresStore(url, schema=SCHEMA)


@pytest.fixture
def store(url: str) -> Iterator[PostgresStore]:
    fresh = _fresh(url)
    yield fresh
    fresh.close()


def _batch(rows: Sequence[Row]) -> pa.Table:
    return pa.table(
        {
            "tag_id": pa.array([r[0] for r in rows], pa.int32()),
            "ts": pa.array([T0 + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us")),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "quality": pa.array([r[3] for r in rows], pa.uint8()),
        }
    )


def _good(rows: list[tuple[int, int, float]]) -> pa.Table:
    return _batch([(tag, sec, value, GOOD) for tag, sec, value in rows])


def _partitions(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            (f'"{SCHEMA}".readings',),
        ).fetchall()
    return dict(rows)


def _sec(ts: datetime) -> int:
    return int((ts - T0).total_seconds())


readings = st.lists(
    st.tuples(
        st.integers(1, 4),
        st.integers(0, 90) | st.integers(0, 7200),  # often the same (tag, ts) again
        st.none() | st.floats(-1e3, 1e3),
        st.sampled_from([GOOD, GOOD, SUSPECT, BAD]),
    ),
    max_size=50,
)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(readings, min_size=1, max_size=4))
def test_appends_keep_one_reading_per_tag_and_time(url: str, batches: list[list[Row]]) -> None:
    """Across appends the first stored reading stays; inside one batch the last one wins."""
    store = _fresh(url)
    try:
        kept: dict[tuple[int, int], tuple[float | None, int]] = {}
        for rows in batches:  # may repeat (tag, ts) inside a batch and across batches
            in_batch = {(tag, sec): (value, quality) for tag, sec, value, quality in rows}
            fresh = {key: val for key, val in in_batch.items() if key not in kept}
            assert store.append(_batch(rows)) == len(fresh)
            kept.update(fresh)
        assert store.count() == len(kept)
        got = store.raw([1, 2, 3, 4], *EVER, limit=10_000).to_pylist()
        assert [(r["ts"], r["tag_id"]) for r in got] == sorted(
            (T0 + timedelta(seconds=sec), tag) for tag, sec in kept
        )
        assert {(r["tag_id"], _sec(r["ts"])): (r["value"], r["quality"]) for r in got} == kept
        newest: dict[int, int] = {}
        for tag, sec in kept:
            newest[tag] = max(newest.get(tag, -1), sec)
        latest = store.latest([1, 2, 3, 4, 5]).to_pylist()
        assert [r["tag_id"] for r in latest] == sorted(newest)
        for r in latest:
            assert _sec(r["ts"]) == newest[r["tag_id"]]
            assert (r["value"], r["quality"]) == kept[(r["tag_id"], newest[r["tag_id"]])]
    finally:
        store.close()


def test_latest_only_moves_forward(store: PostgresStore) -> None:
    assert store.append(_good([(1, 100, 1.0), (2, 50, 2.0)])) == 2
    assert store.append(_batch([(1, 10, 9.0, GOOD), (2, 60, 7.0, BAD)])) == 2  # 1 late, 2 new
    rows = store.latest([2, 1, 3]).to_pylist()
    assert [(r["tag_id"], _sec(r["ts"]), r["value"], r["quality"]) for r in rows] == [
        (1, 100, 1.0, GOOD),
        (2, 60, 7.0, BAD),  # the newest reading, whatever its quality
    ]
    assert store.append(_good([(1, 100, 5.0)])) == 0  # a duplicate moves nothing
    assert store.latest([1]).column("value").to_pylist() == [1.0]


def test_day_partitions_are_created_for_the_days_a_batch_touches(
    store: PostgresStore, url: str
) -> None:
    assert _partitions(url) == {}
    # 23:00 on Nov 1 + 0 s, + 2 h (Nov 2) and a reading from the previous year.
    store.append(_good([(1, 0, 1.0), (1, 7200, 2.0)]))
    store.append(_batch([(1, -400 * 86400, 3.0, GOOD)]))
    store.append(_good([(2, 10, 4.0), (2, 7300, 5.0)]))  # no new day
    assert _partitions(url) == {
        "readings_20250927": "FOR VALUES FROM ('2025-09-27 00:00:00') TO ('2025-09-28 00:00:00')",
        "readings_20261101": "FOR VALUES FROM ('2026-11-01 00:00:00') TO ('2026-11-02 00:00:00')",
        "readings_20261102": "FOR VALUES FROM ('2026-11-02 00:00:00') TO ('2026-11-03 00:00:00')",
    }
    assert store.partitions() == [date(2025, 9, 27), date(2026, 11, 1), date(2026, 11, 2)]
    assert store.count() == 5


late_batches = st.lists(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(0, 7200),  # 23:00 to 01:00: three hours, two days
            st.floats(-1e3, 1e3),
            st.sampled_from([GOOD, GOOD, SUSPECT, BAD]),
        ),
        min_size=1,
        max_size=40,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(batches=late_batches)
def test_rollups_equal_aggregates_of_the_raw_rows(
    url: str, batches: list[list[tuple[int, int, float, int]]]
) -> None:
    """Later batches land in earlier buckets (late readings); BAD readings stay out."""
    store = _fresh(url)
    try:
        kept: dict[tuple[int, int], tuple[float, int]] = {}
        for rows in batches:
            store.append(_batch(rows))
            in_batch = {(tag, sec): (value, quality) for tag, sec, value, quality in rows}
            for key, val in in_batch.items():
                kept.setdefault(key, val)
        for resolution, width in (("1m", 60), ("1h", 3600)):
            expected: dict[tuple[int, int], list[tuple[int, float]]] = {}
            for (tag, sec), (value, quality) in kept.items():
                if quality != BAD:
                    expected.setdefault((tag, sec // width), []).append((sec, value))
            got = store.rollups([1, 2, 3], *EVER, resolution)
            assert got.schema == ROLLUPS
            rows = got.to_pylist()
            assert [(r["bucket"], r["tag_id"]) for r in rows] == sorted(
                (T0 + timedelta(seconds=bucket * width), tag) for tag, bucket in expected
            )
            for row in rows:
                points = sorted(expected[(row["tag_id"], _sec(row["bucket"]) // width)])
                values = [v for _, v in points]
                assert row["count"] == len(values)
                assert row["min"] == min(values) and row["max"] == max(values)
                assert math.isclose(
                    row["avg"], sum(values) / len(values), rel_tol=1e-9, abs_tol=1e-9
                )
                assert row["last"] == points[-1][1]
    finally:
        store.close()


def test_retention_drops_whole_old_days_and_trims_the_boundary_day(
    store: PostgresStore, url: str
) -> None:
    day = datetime(2026, 11, 1)
    # One reading every 6 hours over Oct 30 .. Nov 1 (12 readings on three days).
    rows = [
        (1, int((day - T0).total_seconds()) + h * 3600, float(h), GOOD) for h in range(-48, 24, 6)
    ]
    store.append(_batch(rows))
    assert sorted(_partitions(url)) == [
        "readings_20261030",
        "readings_20261031",
        "readings_20261101",
    ]
    now = datetime(2026, 11, 2, 3, tzinfo=UTC)
    deleted = store.apply_retention(
        now,
        {"raw": timedelta(hours=39), "1m": timedelta(hours=8), "1h": timedelta(days=30)},
    )
    # Raw cutoff Oct 31 12:00: Oct 30 dropped whole (4 readings), Oct 31 00:00 and 06:00 deleted.
    # 1m cutoff Nov 1 19:00: every minute bucket; 1h cutoff Oct 3: none of the hours.
    assert deleted == {"raw": 6, "1m": 12, "1h": 0}
    assert sorted(_partitions(url)) == ["readings_20261031", "readings_20261101"]
    left = store.raw([1], *EVER, limit=100).column("ts").to_pylist()
    assert left == [datetime(2026, 10, 31, 12) + timedelta(hours=6 * i) for i in range(6)]
    assert store.rollups([1], *EVER, "1m").num_rows == 0
    assert store.rollups([1], *EVER, "1h").num_rows == 12
    # A late reading for a dropped day makes its partition again.
    assert store.append(_batch([(1, rows[0][1] + 1, 1.0, GOOD)])) == 1
    assert "readings_20261030" in _partitions(url)


def test_append_recreates_a_day_another_process_dropped(store: PostgresStore, url: str) -> None:
    store.append(_good([(1, 0, 1.0)]))  # this store now knows Nov 1 exists
    other = PostgresStore(url, schema=SCHEMA)
    assert other.apply_retention(datetime(2026, 12, 1), {"raw": timedelta(days=1)}) == {"raw": 1}
    other.close()
    assert _partitions(url) == {}
    assert store.append(_good([(1, 60, 2.0)])) == 1
    assert store.count() == 1


def test_parquet_export_round_trips(store: PostgresStore, tmp_path: Path) -> None:
    rows: list[Row] = [(tag, i * 97, float(i) * tag, GOOD) for i in range(80) for tag in (1, 2, 3)]
    rows.append((1, 5, None, SUSPECT))  # NULL stays NULL, NaN stays NaN
    rows.append((2, 5, math.nan, BAD))  # BAD: kept out of the rollups
    store.append(_batch(rows))
    raw_path = tmp_path / "out" / "raw.parquet"
    assert store.export_parquet(raw_path, [1, 2], *EVER) == 162
    back = pq.read_table(raw_path)
    assert back.schema == READINGS
    expected = store.raw([1, 2], *EVER, limit=10_000)
    assert back.num_rows == expected.num_rows == 162
    assert back.drop_columns(["value"]).equals(expected.drop_columns(["value"]))
    values = back.column("value").to_pylist()
    assert values.count(None) == 1 and sum(math.isnan(v) for v in values if v is not None) == 1
    assert [v for v in values if v is not None and not math.isnan(v)] == [
        v for v in expected.column("value").to_pylist() if v is not None and not math.isnan(v)
    ]
    for resolution in ("1m", "1h"):
        path = tmp_path / f"{resolution}.parquet"
        got = store.rollups([1, 2, 3], *EVER, resolution)
        assert store.export_parquet(path, [1, 2, 3], *EVER, resolution) == got.num_rows > 0
        assert pq.read_table(path).equals(got)
    empty = tmp_path / "empty.parquet"
    assert store.export_parquet(empty, [9], *EVER) == 0
    assert pq.read_table(empty).schema == READINGS


def test_committed_readings_survive_reopening(url: str) -> None:
    store = _fresh(url)
    assert store.append(_good([(1, i, float(i)) for i in range(100)])) == 100
    with psycopg.connect(url) as conn:  # committed: another session sees it at once
        row = conn.execute(f'SELECT count(*) FROM "{SCHEMA}".readings').fetchone()
        assert row is not None and row[0] == 100
    store.close()
    with pytest.raises(RuntimeError):
        store.latest([1])
    again = PostgresStore(url, schema=SCHEMA)
    try:
        kst = timezone(timedelta(hours=9))
        got = again.raw([1], datetime(2026, 11, 2, 8, tzinfo=kst), datetime(2027, 1, 1), 1000)
        assert got.num_rows == 100 and got.schema == READINGS
        assert again.raw([1], datetime(2026, 11, 2, 8, 0, 50, tzinfo=kst), *EVER[1:], 5).column(
            "value"
        ).to_pylist() == [50.0, 51.0, 52.0, 53.0, 54.0]
        assert again.latest([1]).column("value").to_pylist() == [99.0]
        assert again.rollups([1], *EVER, "1m").column("count").to_pylist() == [60, 40]
    finally:
        again.close()


def test_empty_inputs(store: PostgresStore) -> None:
    assert store.append(READINGS.empty_table()) == 0
    assert store.latest([]).schema == READINGS
    assert store.raw([], *EVER, limit=10).num_rows == 0
    assert store.raw([1], *EVER, limit=10).schema == READINGS
    assert store.rollups([1], *EVER, "1h").schema == ROLLUPS


def test_threads_share_the_store(store: PostgresStore) -> None:
    """Overlapping appends from several threads: every reading stored once, no errors."""
    errors: list[BaseException] = []
    stored: list[int] = []

    def work(offset: int) -> None:
        try:
            for i in range(5):
                start = (offset + i) * 50
                stored.append(
                    store.append(
                        _good([(t, s, 1.0) for t in (1, 2) for s in range(start, start + 100)])
                    )
                )
                store.latest([1, 2])
                store.rollups([1, 2], *EVER, "1m")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(stored) == store.count() == 2 * (10 * 50 + 50)
    minutes = store.rollups([1, 2], *EVER, "1m").to_pylist()
    assert sum(r["count"] for r in minutes) == store.count()
