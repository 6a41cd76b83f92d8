"""Gap and daily data-quality SQL, written once for both stores (DuckDB and PostgreSQL).

Both run the same window-function query: the readings of the window and of a short stretch
before it (enough to tell whether the window opens inside a silence), an anchor just before
that stretch and one at the window end, and `lag(ts)` per tag; a step longer than
`factor × sampling interval` is a gap. Times are compared as integer microseconds since 1970.
The dialects differ only in placeholders, array parameters and the epoch conversion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from sandan.telemetry.store import BAD, GAPS, GOOD, QUALITY, QUALITY_WEIGHTS, SUSPECT_CREDIT

DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Dialect:
    """How one backend spells what differs."""

    param: Callable[[str], str]  # a named parameter's placeholder
    epoch_us: Callable[[str], str]  # a timestamp expression as bigint microseconds
    tags: str  # a row source of (tag_id, sampling_us) from the `ids` and `sampling` arrays
    days: str  # a row source of (d0) from the `days` array
    refused: str  # a row source of (tag_id, d0, n) from the `r_tag`, `r_day`, `r_n` arrays
    readings: str  # the readings table


DUCKDB = Dialect(
    param=lambda name: f"${name}",
    epoch_us=lambda expr: f"epoch_us({expr})",
    tags="SELECT unnest($ids)::INTEGER AS tag_id, unnest($sampling)::BIGINT AS sampling_us",
    days="SELECT unnest($days)::BIGINT AS d0",
    refused="SELECT unnest($r_tag)::INTEGER AS tag_id, unnest($r_day)::BIGINT AS d0, "
    "unnest($r_n)::BIGINT AS n",
    readings="readings",
)


def postgres(schema: str) -> Dialect:
    """The PostgreSQL dialect over the readings of a (quoted) schema."""
    return Dialect(
        param=lambda name: f"%({name})s",
        epoch_us=lambda expr: f"(extract(epoch FROM {expr}) * 1000000)::int8",
        tags="SELECT * FROM unnest(%(ids)s::int4[], %(sampling)s::int8[]) "
        "AS u(tag_id, sampling_us)",
        days="SELECT unnest(%(days)s::int8[]) AS d0",
        refused="SELECT * FROM unnest(%(r_tag)s::int4[], %(r_day)s::int8[], %(r_n)s::int8[]) "
        "AS r(tag_id, d0, n)",
        readings=f"{schema}.readings",
    )


def _micros(value: datetime) -> int:
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return (naive - _EPOCH) // timedelta(microseconds=1)


def _core(d: Dialect) -> str:
    """CTEs `ids`, `near` (readings from `lo` to `hi` with quality), `gaps` (g0 clipped to
    `start`, g1, ongoing, sampling_us)."""
    p = d.param
    big = {name: f"CAST({p(name)} AS BIGINT)" for name in ("lo_us", "start_us", "hi_us")}
    return f"""
    ids AS ({d.tags}),
    near AS (
        SELECT r.tag_id, {d.epoch_us("r.ts")} AS t, r.quality
        FROM {d.readings} r
        WHERE r.tag_id IN (SELECT tag_id FROM ids) AND r.ts >= {p("lo")} AND r.ts < {p("hi")}
    ),
    pts AS (
        SELECT tag_id, t FROM near
        UNION ALL SELECT tag_id, {big["lo_us"]} - 1 FROM ids
        UNION ALL SELECT tag_id, {big["hi_us"]} FROM ids
    ),
    seq AS (
        SELECT tag_id, t, lag(t) OVER (PARTITION BY tag_id ORDER BY t) AS prev FROM pts
    ),
    gaps AS (
        SELECT s.tag_id, i.sampling_us, greatest(s.prev, {big["start_us"]}) AS g0, s.t AS g1,
               s.t = {big["hi_us"]} AS ongoing
        FROM seq s JOIN ids i ON i.tag_id = s.tag_id
        WHERE s.prev IS NOT NULL AND s.t > {big["start_us"]}
          AND s.t - s.prev > {p("factor")} * i.sampling_us
    )"""


def gaps_sql(d: Dialect, newest_first: bool = False) -> str:
    order = "g0 DESC, tag_id" if newest_first else "tag_id, g0"
    return f"""
    WITH {_core(d)}
    SELECT tag_id, g0, g1, ongoing,
           CAST(greatest(ceil(CAST(g1 - g0 AS DOUBLE PRECISION) / sampling_us) - 1, 0) AS BIGINT)
    FROM gaps ORDER BY {order} LIMIT {d.param("limit")}
    """


def quality_sql(d: Dialect) -> str:
    p = d.param
    dbl = "DOUBLE PRECISION"
    start, hi = f"CAST({p('start_us')} AS BIGINT)", f"CAST({p('hi_us')} AS BIGINT)"
    w = QUALITY_WEIGHTS
    return f"""
    WITH {_core(d)},
    days AS (
        SELECT i.tag_id, i.sampling_us, x.d0, least(x.d0 + {DAY_US}, {hi}) AS d1
        FROM ids i CROSS JOIN ({d.days}) x
    ),
    counts AS (
        SELECT tag_id, {start} + {DAY_US} * CAST(floor(CAST(t - {start} AS {dbl}) / {DAY_US})
               AS BIGINT) AS d0,
               count(*) AS received,
               count(*) FILTER (WHERE quality = {GOOD}) AS good,
               count(*) FILTER (WHERE quality > {GOOD} AND quality < {BAD}) AS suspect,
               count(*) FILTER (WHERE quality >= {BAD}) AS bad
        FROM near WHERE t >= {start}
        GROUP BY 1, 2
    ),
    silent AS (
        SELECT g.tag_id, x.d0, sum(least(g.g1, x.d1) - greatest(g.g0, x.d0)) AS silent_us
        FROM gaps g JOIN days x ON x.tag_id = g.tag_id AND g.g0 < x.d1 AND g.g1 > x.d0
        GROUP BY 1, 2
    ),
    refused AS ({d.refused}),
    tally AS (
        SELECT x.tag_id, x.d0, CAST(x.d1 - x.d0 AS {dbl}) AS observed_us,
               CAST(x.d1 - x.d0 AS {dbl}) / x.sampling_us AS expected,
               coalesce(c.received, 0) AS received, coalesce(c.good, 0) AS good,
               coalesce(c.suspect, 0) AS suspect, coalesce(c.bad, 0) AS bad,
               coalesce(f.n, 0) AS rejected, CAST(coalesce(s.silent_us, 0) AS {dbl}) AS silent_us
        FROM days x
        LEFT JOIN counts c ON c.tag_id = x.tag_id AND c.d0 = x.d0
        LEFT JOIN silent s ON s.tag_id = x.tag_id AND s.d0 = x.d0
        LEFT JOIN refused f ON f.tag_id = x.tag_id AND f.d0 = x.d0
    ),
    shares AS (
        SELECT *, least(1.0, CAST(received AS {dbl}) / expected) AS completeness,
               (good + {SUSPECT_CREDIT} * suspect) / CAST(nullif(received + rejected, 0) AS {dbl})
                   AS validity,
               greatest(0.0, 1.0 - silent_us / observed_us) AS continuity
        FROM tally
    )
    SELECT tag_id, d0, expected, received, good, suspect, bad, rejected,
           completeness, validity, continuity,
           100.0 * ({w["completeness"]} * completeness + {w["validity"]} * coalesce(validity, 0)
                    + {w["continuity"]} * continuity) AS score
    FROM shares ORDER BY tag_id, d0
    """


def _lookback_us(sampling_ms: dict[int, int], factor: float) -> int:
    """How far before the window a reading can still decide whether it opens in a gap."""
    return math.ceil(factor * max(sampling_ms.values()) * 1000) + 1


def _tag_arrays(sampling_ms: dict[int, int]) -> dict[str, list[int]]:
    ids = sorted(sampling_ms)
    return {"ids": ids, "sampling": [max(1, sampling_ms[i]) * 1000 for i in ids]}


def gaps_params(
    sampling_ms: dict[int, int], start: datetime, end: datetime, factor: float, limit: int
) -> dict[str, Any]:
    start_us, hi_us = _micros(start), _micros(end)
    lo_us = start_us - _lookback_us(sampling_ms, factor)
    return {
        **_tag_arrays(sampling_ms),
        "lo": _EPOCH + timedelta(microseconds=lo_us),
        "hi": _EPOCH + timedelta(microseconds=hi_us),
        "lo_us": lo_us,
        "start_us": start_us,
        "hi_us": hi_us,
        "factor": float(factor),
        "limit": limit,
    }


def quality_params(
    sampling_ms: dict[int, int],
    first: date,
    last: date,
    until: datetime,
    factor: float,
    rejected: dict[tuple[int, date], int] | None,
) -> dict[str, Any] | None:
    """Parameters of quality_sql, or None when no day of the range began before `until`."""
    if not sampling_ms:
        return None
    start = datetime.combine(first, datetime.min.time())
    end = min(datetime.combine(last + timedelta(days=1), datetime.min.time()), _naive(until))
    if end <= start:
        return None
    params = gaps_params(sampling_ms, start, end, factor, 0)
    del params["limit"]
    start_us = params["start_us"]
    params["days"] = list(range(start_us, params["hi_us"], DAY_US))
    refused = [(t, d, n) for (t, d), n in (rejected or {}).items() if t in sampling_ms and n]
    params["r_tag"] = [t for t, _, _ in refused]
    params["r_day"] = [_micros(datetime.combine(d, datetime.min.time())) for _, d, _ in refused]
    params["r_n"] = [n for _, _, n in refused]
    return params


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


Run = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]


def gaps(
    run: Run,
    dialect: Dialect,
    sampling_ms: dict[int, int],
    start: datetime,
    end: datetime,
    factor: float,
    limit: int,
    newest_first: bool = False,
) -> pa.Table:
    """TelemetryStore.gaps for a backend that runs a query with `run(sql, params)`."""
    if not sampling_ms or _naive(start) >= _naive(end) or limit <= 0:
        return GAPS.empty_table()
    params = gaps_params(sampling_ms, start, end, factor, limit)
    return gaps_table(run(gaps_sql(dialect, newest_first), params))


def quality_daily(
    run: Run,
    dialect: Dialect,
    sampling_ms: dict[int, int],
    first: date,
    last: date,
    until: datetime,
    factor: float,
    rejected: dict[tuple[int, date], int] | None,
) -> pa.Table:
    """TelemetryStore.quality_daily for a backend that runs a query with `run(sql, params)`."""
    params = quality_params(sampling_ms, first, last, until, factor, rejected)
    if not sampling_ms or params is None:
        return QUALITY.empty_table()
    return quality_table(run(quality_sql(dialect), params))


def _stamps(us: Sequence[int] | np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64).view("datetime64[us]"))


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def gaps_table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """The GAPS table from the query's rows (tag_id, g0, g1, ongoing, missing)."""
    tag_id, g0, g1, ongoing, missing = (np.asarray(c) for c in _columns(rows, 5))
    g0, g1 = g0.astype(np.int64), g1.astype(np.int64)
    return pa.Table.from_arrays(
        [
            pa.array(tag_id.astype(np.int32), pa.int32()),
            _stamps(g0),
            _stamps(g1),
            pa.array((g1 - g0) / 1e6, pa.float64()),
            pa.array(missing.astype(np.int64), pa.int64()),
            pa.array(ongoing.astype(bool), pa.bool_()),
        ],
        schema=GAPS,
    )


def quality_table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """The QUALITY table from the query's rows, in QUALITY's order (the day as d0 micros)."""
    arrays: list[pa.Array] = []
    for field, column in zip(QUALITY, _columns(rows, len(QUALITY)), strict=True):
        if field.name == "day":
            days = np.asarray(column, dtype=np.int64) // DAY_US
            arrays.append(pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32()))
        else:
            arrays.append(pa.array(column, field.type))
    return pa.Table.from_arrays(arrays, schema=QUALITY)
