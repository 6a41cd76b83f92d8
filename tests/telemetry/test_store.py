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
