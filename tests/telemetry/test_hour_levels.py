"""The 1-hour figures analytics reads instead of minutes, on both stores: per hour, how many
minutes have data (`minutes`), the sum of their means (`avg_sum`) and the minutes that ended on
each whole value 0-15 (`levels`), always equal to what the minute rollups say, whatever the
order the readings came in (late, repeated, BAD ones)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pyarrow as pa
import pytest
from stores import open_store

from sandan.telemetry.postgres_store import PostgresStore
from sandan.telemetry.store import TelemetryStore

SCHEMA = f"telemetry_levels_{os.getpid()}"
T0 = datetime(2026, 11, 2, 22, 0)  # two hours either side of midnight UTC
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
TAGS = [1, 2, 3]


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[TelemetryStore]:
    yield from open_store(request.param, SCHEMA)


def _batches(seed: int) -> list[pa.Table]:
    """Readings of three tags over four hours in six batches: states 0-4 on tag 1, fractional
    kW on tag 2, a mix with some BAD on tag 3; the later batches re-send and fill earlier
    minutes (late readings) and skip whole minutes (holes)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(6):
        n = 400
        tag = rng.choice(TAGS, n)
        sec = rng.integers(0, 4 * 3600, n)
        sec = sec[(sec // 60) % 7 != 3]  # some minutes never have data
        tag = tag[: len(sec)]
        value = np.where(tag == 1, rng.integers(0, 5, len(sec)), rng.uniform(0, 40, len(sec)))
        value = np.where((tag == 3) & (rng.random(len(sec)) < 0.5), np.round(value), value)
        quality = np.where((tag == 3) & (rng.random(len(sec)) < 0.2), 2, 0)
        key = np.unique(np.stack([tag, sec]), axis=1, return_index=True)[1]  # one per (tag, ts)
        out.append(
            pa.table(
                {
                    "tag_id": pa.array(tag[key], pa.int32()),
                    "ts": pa.array(
                        [T0 + timedelta(seconds=int(s)) for s in sec[key]], pa.timestamp("us")
                    ),
                    "value": pa.array(value[key], pa.float64()),
                    "quality": pa.array(quality[key], pa.uint8()),
                }
            )
        )
    return out


def _query(store: TelemetryStore, resolution: str, sql: str) -> list[dict[str, float]]:
    table = store.aggregate_rollups(TAGS, *EVER, resolution, sql)  # type: ignore[arg-type]
    return sorted(
        table.cast(pa.schema([(n, pa.float64()) for n in table.column_names])).to_pylist(),
        key=lambda r: tuple(r.values()),
    )


def test_hours_keep_their_minutes_sums_and_levels(store: TelemetryStore) -> None:
    for batch in _batches(7):
        store.append(batch)
    minutes = store.rollups(TAGS, *EVER, "1m").to_pylist()
    hours: dict[tuple[int, datetime], list[dict[str, float]]] = {}
    for row in minutes:
        hours.setdefault((row["tag_id"], row["bucket"].replace(minute=0)), []).append(row)
    got = _query(store, "1h", "SELECT tag_id, t, minutes, avg_sum FROM rollups")
    assert len(got) == len(hours) > 10
    for row in got:
        key = (int(row["tag_id"]), datetime.fromtimestamp(row["t"], UTC).replace(tzinfo=None))
        assert row["minutes"] == len(hours[key])
        assert row["avg_sum"] == pytest.approx(sum(m["avg"] for m in hours[key]), rel=1e-9)
    whole = Counter(
        (row["tag_id"], row["bucket"].replace(minute=0), int(row["last"]))
        for row in minutes
        if 0 <= row["last"] < 16 and row["last"] == int(row["last"])
    )
    levels = _query(store, "1h", "SELECT tag_id, t, level, minutes FROM levels")
    assert {
        (
            int(r["tag_id"]),
            datetime.fromtimestamp(r["t"], UTC).replace(tzinfo=None),
            int(r["level"]),
        ): int(r["minutes"])
        for r in levels
    } == dict(whole)
    assert {k[0] for k in whole} == {1, 3}  # kW tag 2 never ends a minute on a whole value
    # The same query over minutes: each minute is one minute at its own level.
    per_minute = _query(
        store, "1m", "SELECT tag_id, level, sum(minutes) AS n FROM levels GROUP BY tag_id, level"
    )
    by_level = Counter()
    for (tag, _, level), n in whole.items():
        by_level[(tag, level)] += n
    assert {(int(r["tag_id"]), int(r["level"])): int(r["n"]) for r in per_minute} == by_level


@pytest.fixture
def pg_store() -> Iterator[TelemetryStore]:
    yield from open_store("postgresql", SCHEMA)


def test_a_postgres_store_from_before_the_hour_figures_gets_them_on_open(
    pg_store: TelemetryStore,
) -> None:
    """Tables written before `minutes`, `avg_sum` and the levels existed are filled from their
    minutes when the store opens (the DuckDB file upgrade: test_store.py)."""
    assert isinstance(pg_store, PostgresStore)
    for batch in _batches(11):
        pg_store.append(batch)
    expected = (
        _query(pg_store, "1h", "SELECT tag_id, t, minutes, avg_sum FROM rollups"),
        _query(pg_store, "1h", "SELECT tag_id, t, level, minutes FROM levels"),
    )
    minutes = pg_store.rollups(TAGS, *EVER, "1m").to_pylist()
    with psycopg.connect(pg_store.url, autocommit=True) as conn:
        conn.execute(f'UPDATE "{SCHEMA}".rollup_1h SET minutes = NULL, avg_sum = NULL')
        conn.execute(f'DELETE FROM "{SCHEMA}".rollup_1h_levels')
        conn.execute(f'ALTER TABLE "{SCHEMA}".rollup_1m DROP COLUMN last_ts')
    reopened = PostgresStore(pg_store.url, schema=SCHEMA)
    try:
        got = (
            _query(reopened, "1h", "SELECT tag_id, t, minutes, avg_sum FROM rollups"),
            _query(reopened, "1h", "SELECT tag_id, t, level, minutes FROM levels"),
        )
        # `last_ts` came back from the raw rows: a late reading is not the minute's last.
        first = next(m for m in minutes if m["count"] >= 2)  # its last is after second 0
        reopened.append(
            pa.table(
                {
                    "tag_id": pa.array([first["tag_id"]], pa.int32()),
                    "ts": pa.array(
                        [first["bucket"] + timedelta(microseconds=500)], pa.timestamp("us")
                    ),
                    "value": pa.array([-1.0], pa.float64()),
                    "quality": pa.array([0], pa.uint8()),
                }
            )
        )
        after = reopened.rollups(
            [first["tag_id"]],
            first["bucket"].replace(tzinfo=UTC),
            first["bucket"].replace(tzinfo=UTC) + timedelta(minutes=1),
            "1m",
        ).to_pylist()
    finally:
        reopened.close()
    assert after[0]["count"] == first["count"] + 1 and after[0]["min"] == -1.0
    assert after[0]["last"] == first["last"]
    assert got[1] == expected[1] and len(got[1]) > 10
    assert [r["minutes"] for r in got[0]] == [r["minutes"] for r in expected[0]]
    assert [r["avg_sum"] for r in got[0]] == pytest.approx([r["avg_sum"] for r in expected[0]])
