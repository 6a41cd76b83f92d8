"""The DuckDB store: unique on (tag, ts), latest per tag, durable across reopen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sandan.telemetry.duckdb_store import DuckDBStore

T0 = datetime(2026, 11, 1)

readings = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 50), st.floats(-1e6, 1e6)), max_size=60
)


def _batch(rows: list[tuple[int, int, float]]) -> pa.Table:
    return pa.table(
        {
            "tag_id": pa.array([r[0] for r in rows], pa.int32()),
            "ts": pa.array([T0 + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us")),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "quality": pa.array([0] * len(rows), pa.uint8()),
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(readings, min_size=1, max_size=4))
def test_appends_keep_one_reading_per_tag_and_time(
    batches: list[list[tuple[int, int, float]]],
) -> None:
    store = DuckDBStore(":memory:")
    seen: dict[tuple[int, int], float] = {}
    stored = 0
    for rows in batches:
        unique: dict[tuple[int, int], float] = {}
        for tag, sec, value in rows:
            unique.setdefault((tag, sec), value)
        fresh = [(t, s, v) for (t, s), v in unique.items() if (t, s) not in seen]
        stored += store.append(_batch([(t, s, v) for (t, s), v in unique.items()]))
        seen.update({(t, s): v for t, s, v in fresh})
    assert stored == store.count() == len(seen)
    latest = {r["tag_id"]: r["ts"] for r in store.latest(list(range(1, 6))).to_pylist()}
    expected = {}
    for tag, sec in seen:
        expected[tag] = max(expected.get(tag, -1), sec)
    assert latest == {tag: T0 + timedelta(seconds=sec) for tag, sec in expected.items()}


def test_committed_readings_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.duckdb"
    store = DuckDBStore(path)
    assert store.append(_batch([(1, i, float(i)) for i in range(100)])) == 100
    store.close()
    again = DuckDBStore(path)
    got = again.raw([1], datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 1000)
    assert got.num_rows == 100 and again.latest([1]).column("value").to_pylist() == [99.0]
    again.close()


late_batches = st.lists(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(0, 7200),
            st.floats(-1e3, 1e3),
            st.sampled_from([0, 0, 1, 2]),
        ),
        min_size=1,
        max_size=40,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=30, deadline=None)
@given(late_batches)
def test_rollups_equal_aggregates_of_the_raw_rows(
    batches: list[list[tuple[int, int, float, int]]],
) -> None:
    store = DuckDBStore(":memory:")
    kept: dict[tuple[int, int], tuple[float, int]] = {}
    for rows in batches:  # later batches may land in earlier buckets (late readings)
        unique = {}
        for tag, sec, value, quality in rows:
            unique.setdefault((tag, sec), (value, quality))
        store.append(
            pa.table(
                {
                    "tag_id": pa.array([k[0] for k in unique], pa.int32()),
                    "ts": pa.array(
                        [T0 + timedelta(seconds=k[1]) for k in unique], pa.timestamp("us")
                    ),
                    "value": pa.array([v[0] for v in unique.values()], pa.float64()),
                    "quality": pa.array([v[1] for v in unique.values()], pa.uint8()),
                }
            )
        )
        for key, val in unique.items():
            kept.setdefault(key, val)
    for resolution, width in (("1m", 60), ("1h", 3600)):
        expected: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for (tag, sec), (value, quality) in kept.items():
            if quality < 2:
                expected.setdefault((tag, sec // width), []).append((sec, value))
        got = store.rollups(
            [1, 2, 3],
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
            resolution,
        ).to_pylist()
        assert len(got) == len(expected)
        for row in got:
            bucket = int((row["bucket"] - T0).total_seconds()) // width
            points = sorted(expected[(row["tag_id"], bucket)])
            values = [v for _, v in points]
            assert row["count"] == len(values)
            assert row["min"] == min(values) and row["max"] == max(values)
            assert abs(row["avg"] - sum(values) / len(values)) <= 1e-6 * max(1.0, *map(abs, values))
            assert row["last"] == points[-1][1]


def test_retention_and_parquet_export(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    store = DuckDBStore(":memory:")
    store.append(_batch([(1, i * 600, float(i)) for i in range(12)]))  # two hours, every 10 min
    out = store.export_parquet(
        tmp_path / "x.parquet",
        [1],
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert out == 12 and pq.read_table(tmp_path / "x.parquet").num_rows == 12
    hours = store.export_parquet(
        tmp_path / "h.parquet",
        [1],
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        "1h",
    )
    assert hours == 2
    deleted = store.apply_retention(
        T0 + timedelta(hours=2), {"raw": timedelta(hours=1), "1m": timedelta(hours=1)}
    )
    assert deleted == {"raw": 6, "1m": 6}
    assert store.count() == 6


def test_a_file_from_before_merged_rollups_is_upgraded_on_open(tmp_path: Path) -> None:
    """A store written with a primary key on readings and rollups without `last_ts` (nor the
    hours' minutes, mean sums and levels) opens, gets them from its rows, and keeps merging
    correctly: a late reading does not
    become the bucket's last, a newer one does, and a repeated one is not counted."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE readings (tag_id INTEGER NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE,"
        " quality UTINYINT NOT NULL, PRIMARY KEY (tag_id, ts));"
        + "".join(
            f"CREATE TABLE rollup_{r} (tag_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL,"
            " min DOUBLE, max DOUBLE, avg DOUBLE, count BIGINT NOT NULL, last DOUBLE,"
            " PRIMARY KEY (tag_id, bucket));"
            for r in ("1m", "1h")
        )
        + "INSERT INTO readings VALUES (1, TIMESTAMP '2026-11-01 00:00:10', 5, 0),"
        " (1, TIMESTAMP '2026-11-01 00:00:40', 7, 0);"
        "INSERT INTO rollup_1m VALUES (1, TIMESTAMP '2026-11-01 00:00:00', 5, 7, 6, 2, 7);"
        "INSERT INTO rollup_1h VALUES (1, TIMESTAMP '2026-11-01 00:00:00', 5, 7, 6, 2, 7);"
    )
    con.close()
    store = DuckDBStore(path)
    assert store.append(_batch([(1, 20, 1.0), (1, 40, 99.0)])) == 1  # late, and a repeat
    minute = store.rollups([1], T0, T0 + timedelta(hours=1), "1m").to_pylist()
    assert [(r["min"], r["max"], r["count"], r["last"]) for r in minute] == [(1.0, 7.0, 3, 7.0)]
    assert minute[0]["avg"] == 13.0 / 3
    assert store.append(_batch([(1, 50, 2.0)])) == 1  # newer: the new last
    hour = store.rollups([1], T0, T0 + timedelta(hours=1), "1h").to_pylist()
    assert [(r["count"], r["last"]) for r in hour] == [(4, 2.0)]
    figures = store.aggregate_rollups(
        [1], T0, T0 + timedelta(hours=1), "1h", "SELECT minutes, avg_sum FROM rollups"
    )
    levels = store.aggregate_rollups(
        [1], T0, T0 + timedelta(hours=1), "1h", "SELECT level, minutes FROM levels"
    )
    assert figures.to_pylist() == [{"minutes": 1, "avg_sum": 15.0 / 4}]
    assert levels.to_pylist() == [{"level": 2, "minutes": 1}]  # the minute ended on 2.0
    store.close()
