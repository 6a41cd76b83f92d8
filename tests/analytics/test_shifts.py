"""Shifts and production days: the night shift belongs to the day it began, summer time is
followed hour by hour, and the SQL that numbers periods inside the store agrees with numpy."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import psycopg
import pytest

from sandan.analytics.shifts import ShiftPlan, calendar, whole_hours


def _sql_periods(expression: str, seconds: np.ndarray) -> np.ndarray:
    """The periods as the store numbers them: DuckDB, and PostgreSQL when there is one
    (both must agree; the expression goes into either store's aggregate)."""
    values = ",".join(f"(CAST({int(s)} AS BIGINT))" for s in seconds)
    query = f"SELECT {expression} FROM (VALUES {values}) AS v(t)"
    found = np.array([r[0] for r in duckdb.sql(query).fetchall()])
    url = os.environ.get("SANDAN_TEST_DATABASE_URL")
    if url:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            assert [r[0] for r in conn.execute(query).fetchall()] == found.tolist()
    return found


def _hours(start: datetime, hours: int) -> np.ndarray:
    first = int(start.timestamp())
    return first + 3600 * np.arange(hours) + 1800  # mid-hour instants


def test_gumi_night_shift_belongs_to_the_day_it_began() -> None:
    plan = ShiftPlan.parse("06:00,14:00,22:00", "Asia/Seoul")
    start = datetime(2026, 3, 1, 21, tzinfo=UTC)  # 06:00 on 2 March in Gumi
    cal = calendar(plan, start, start + timedelta(days=2))
    assert cal.periods == 6
    assert cal.days == [date(2026, 3, 2)] * 3 + [date(2026, 3, 3)] * 3
    assert [plan.label(s) for s in cal.shifts[:3]] == ["06:00–14:00", "14:00–22:00", "22:00–06:00"]
    # 05:59 on 3 March is still the night shift of 2 March
    night = cal.period_of(np.array([int((start + timedelta(hours=23, minutes=59)).timestamp())]))
    assert cal.days[night[0]] == date(2026, 3, 2) and cal.shifts[night[0]] == 2
    assert "ARRAY" not in cal.period_sql("t")  # equal shifts: arithmetic, no lookup
    seconds = _hours(start, cal.hours)
    assert np.array_equal(_sql_periods(cal.period_sql("t"), seconds), cal.period_of(seconds))


def test_summer_time_ends_with_a_nine_hour_night() -> None:
    plan = ShiftPlan.parse("06:00,14:00,22:00", "Europe/Berlin")
    start = datetime(2026, 10, 23, 22, tzinfo=UTC)
    cal = calendar(plan, start, start + timedelta(days=4))
    lengths = np.bincount(cal.hour_period)
    night = next(
        p
        for p, (d, s) in enumerate(zip(cal.days, cal.shifts, strict=True))
        if d == date(2026, 10, 24) and s == 2
    )
    assert lengths[night] == 9  # 22:00-06:00 while the clocks go back an hour
    assert "ARRAY" in cal.period_sql("t")
    seconds = _hours(start, cal.hours)
    assert np.array_equal(_sql_periods(cal.period_sql("t"), seconds), cal.period_of(seconds))


@pytest.mark.parametrize("grain", ["window", "day", "shift"])
@pytest.mark.parametrize("shifts", ["06:00,14:00,22:00", "07:00,19:00", "06:00,18:00,20:00"])
def test_the_store_numbers_periods_as_numpy_does(grain: str, shifts: str) -> None:
    plan = ShiftPlan.parse(shifts, "Asia/Seoul")
    start = datetime(2026, 3, 1, 13, tzinfo=UTC)  # mid-shift: a short first period
    cal = calendar(plan, start, start + timedelta(days=3, hours=5), grain)  # type: ignore[arg-type]
    seconds = _hours(start, cal.hours)
    assert np.array_equal(_sql_periods(cal.period_sql("t"), seconds), cal.period_of(seconds))


def test_whole_hours() -> None:
    low, high = whole_hours(
        datetime(2026, 3, 1, 10, 20, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    )
    assert (low.hour, high.hour) == (10, 12)
    assert whole_hours(low, datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC))[1].hour == 13
