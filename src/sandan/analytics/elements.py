"""The ISO 22400 elements of many machines per shift, from the rollups, in a few aggregates
that run inside the telemetry store and numpy (no Python per minute, no query per machine).

- Time in state: each 1-minute bucket of a `state` tag counts in the state of its last
  reading (a machine without one, with a power tag and a state rule: in the band of the
  minute's mean power, `states.state_sql`); where a tag is silent, its last state holds for
  up to 14 more minutes (15 with its own: `STATE_HOLD_S`), after that the silence is a gap.
  State tags are read from the store's 1-hour levels (the minutes of each hour that ended on
  each state) and power from the hours' sums of minute means, the hour under way from its
  minutes; the holding is worked out from the minutes only for tags that have holes, so a
  month of a dense company is two small grouped scans.
- Output and rejects: the growth of the counters hour by hour (1-hour rollups): the last
  value of an hour minus that of the hour before; a drop is a reset, counted from the new
  value (as `service._delta` does per reading). A reset shows as a value below the hour
  before's last or an hour ending below its peak; a counter that resets and climbs back past
  its old value within one hour is not seen to reset.
- Energy: kWh = the sum of the 1-minute mean kW / 60 of the `power` tag (held over silences
  like the state).
- The ideal cycle time, unless given, is 60 s over the 95th percentile of the per-minute
  output in the last 24 hours of the window, per machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from sandan.analytics.shifts import Calendar
from sandan.analytics.states import PowerRule, power_rules, state_source, state_sql
from sandan.core.identity.principal import Principal
from sandan.registry.service import MachineTags
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import Resolution, TelemetryStore

OUTPUT_TAGS = (
    "cycle_count",
    "board_count",
    "stroke_count",
    "cell_count",
    "wafer_count",
    "tested_count",
    "pick_count",
    "inspected_count",
)
DEFECT_TAGS = ("defect_count", "fail_count", "yarn_breaks")
STATE_HOLD_S = 900.0  # a state heard nothing of for 15 minutes is a gap, not running time
HOLD_MINUTES = int(STATE_HOLD_S // 60) - 1  # minutes a bucket holds after its own
STATES = 5  # 0 planned stop, 1 running, 2 idle, 3 down, 4 changeover
ESTIMATE_WINDOW_S = 86_400  # the ideal cycle is estimated from the window's last day
BASE_WINDOW_S = 86_400  # how far before the window a counter's base value is looked for

# Reads an aggregate of the rollups of some tags in [low, high) Unix seconds.
Reader = Callable[[np.ndarray, int, int, Resolution, str], pa.Table]


@dataclass
class Elements:
    """Per machine (M) and period (P, a shift of a production day): the sums to group."""

    machines: list[MachineTags]
    calendar: Calendar
    seconds: np.ndarray  # [M, P, STATES] seconds in each state
    produced: np.ndarray  # [M, P]
    rejects: np.ndarray  # [M, P]
    kwh: np.ndarray  # [M, P]
    ideal_cycle_s: np.ndarray  # [M], nan where unknown
    estimated: np.ndarray  # [M] bool: ideal cycle estimated from the data
    has_output: np.ndarray  # [M] bool
    has_power: np.ndarray  # [M] bool


def roles(
    machines: list[MachineTags], rules: Mapping[int, PowerRule] | None = None
) -> dict[str, np.ndarray]:
    """The tag id of each machine's state, output, defect and power tags (-1: none); a machine
    without a state tag whose power a rule bands has its power tag as its state source."""

    def pick(names: tuple[str, ...]) -> np.ndarray:
        return np.array(
            [next((m.tags[n] for n in names if n in m.tags), -1) for m in machines], np.int64
        )

    sources = [state_source(m, rules or {}) for m in machines]
    return {
        "state": np.array([-1 if s is None else s for s in sources], np.int64),
        "output": pick(OUTPUT_TAGS),
        "defects": pick(DEFECT_TAGS),
        "power": pick(("power",)),
    }


def _owner(tag_ids: np.ndarray, column: np.ndarray) -> np.ndarray:
    """The machine index of each tag id in `column`, for tag_ids[machine] (-1 where absent)."""
    present = np.flatnonzero(tag_ids >= 0)
    if len(present) == 0 or len(column) == 0:
        return np.full(len(column), -1, np.int64)
    order = present[np.argsort(tag_ids[present], kind="stable")]
    keys = tag_ids[order]
    at = np.clip(np.searchsorted(keys, column), 0, len(keys) - 1)
    return np.where(keys[at] == column, order[at], -1)


def column(table: pa.Table, name: str, fill: float = -1) -> np.ndarray:
    """A result column as float64 with nulls filled (DuckDB answers typed, PostgreSQL in text)."""
    values = table.column(name).cast(pa.float64()).fill_null(fill)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _seconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _gappy(tables: list[pa.Table], tag_ids: np.ndarray, minutes: int) -> np.ndarray:
    """Tags of `tag_ids` with fewer minutes (column `n`) than the window has whole minutes:
    only these need the holding query (a dense month is then one grouped scan)."""
    count = np.zeros(len(tag_ids) + 1)
    for table in tables:
        index = np.searchsorted(tag_ids, column(table, "tag_id").astype(np.int64))
        count += np.bincount(index, weights=column(table, "n", 0), minlength=len(tag_ids) + 1)
    gappy: np.ndarray = tag_ids[count[: len(tag_ids)] < minutes]
    return gappy


def compute(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    machines: list[MachineTags],
    cal: Calendar,
    now: datetime,
    rules: Mapping[int, PowerRule] | None = None,
) -> Elements:
    """The elements of `machines` in the periods of `cal`, read in at most six aggregates
    whatever the number of machines; `rules` (machine id -> power thresholds) give states to
    machines without a state tag."""
    m, p = len(machines), cal.periods
    role = roles(machines, rules)
    by_tag = power_rules(machines, rules or {})  # power tags whose bands are states
    state, rule_join = state_sql(by_tag)
    start, end = _seconds(cal.start), _seconds(cal.end)
    # Up to the last whole minute: the minute under way is not over, the future not there.
    limit = max(start, min(end, _seconds(now) // 60 * 60))
    minutes = (limit - start) // 60
    period = cal.period_sql("t")
    seconds = np.zeros((m, p, STATES))
    kwh = np.zeros((m, p))

    def read(ids: np.ndarray, low: int, high: int, resolution: Resolution, query: str) -> pa.Table:
        return telemetry.aggregate_rollups(
            session, principal, store, [int(i) for i in ids], _at(low), _at(high), resolution, query
        )

    def add_states(table: pa.Table) -> None:
        machine = _owner(role["state"], column(table, "tag_id").astype(np.int64))
        state = column(table, "s").astype(np.int64)
        when = column(table, "p").astype(np.int64)
        keep = (machine >= 0) & (state >= 0) & (state < STATES) & (when >= 0)
        np.add.at(
            seconds, (machine[keep], when[keep], state[keep]), 60 * column(table, "n", 0)[keep]
        )

    def add_energy(table: pa.Table) -> None:
        machine = _owner(role["power"], column(table, "tag_id").astype(np.int64))
        when = column(table, "p").astype(np.int64)
        keep = (machine >= 0) & (when >= 0)
        np.add.at(kwh, (machine[keep], when[keep]), column(table, "kw", 0)[keep] / 60)

    def read_hours(ids: np.ndarray, query: str) -> list[pa.Table]:
        """`query` over the window's whole hours (1-hour figures), then over the minutes of
        the hour under way: a month is 720 rows a tag, not 43,200."""
        top = max(start, limit // 3600 * 3600)
        parts = [read(ids, start, top, "1h", query)] if top > start else []
        return parts + ([read(ids, top, limit, "1m", query)] if limit > top else [])

    state_ids = np.unique(role["state"][role["state"] >= 0])
    banded = np.array(sorted(by_tag), np.int64)
    power_ids = np.unique(role["power"][role["power"] >= 0])
    holes: list[np.ndarray] = []
    if len(state_ids):
        own = read_hours(  # time in state: the minutes ended on each state
            np.setdiff1d(state_ids, banded),
            f"SELECT tag_id, {period} AS p, level AS s, sum(minutes) AS n "
            "FROM levels GROUP BY tag_id, p, s",
        )
        if len(banded):  # states banded from each minute's mean power
            own.append(
                read(
                    banded,
                    start,
                    limit,
                    "1m",
                    f"SELECT tag_id, {period} AS p, {state} AS s, count(*) AS n "
                    f"FROM rollups{rule_join} GROUP BY tag_id, p, s",
                )
            )
        for table in own:
            add_states(table)
        holes.append(_gappy(own, state_ids, minutes))
    if len(power_ids):
        own = read_hours(
            power_ids,
            f"SELECT tag_id, {period} AS p, sum(minutes) AS n, sum(avg_sum) AS kw "
            "FROM rollups GROUP BY tag_id, p",
        )
        for table in own:
            add_energy(table)
        holes.append(_gappy(own, power_ids, minutes))
    held = np.concatenate(holes) if holes else np.zeros(0, np.int64)
    if len(held):
        held_states = ",".join(str(int(t)) for t in np.intersect1d(held, state_ids)) or "NULL"
        steps = ", ".join(f"({k})" for k in range(1, HOLD_MINUTES + 1))
        table = read(
            held,
            start - 60 * HOLD_MINUTES,
            limit,
            "1m",
            f"SELECT tag_id, {cal.period_sql('c')} AS p, "
            f"CASE WHEN tag_id IN ({held_states}) THEN {state} ELSE -1 END AS s, "
            "count(*) AS n, sum(avg) AS kw FROM ("
            " SELECT x.tag_id, x.t + 60 * g.k AS c, x.last, x.avg FROM ("
            "  SELECT tag_id, t, last, avg, lead(t) OVER (PARTITION BY tag_id ORDER BY t) AS nx"
            "  FROM rollups) AS x"
            f" JOIN (VALUES {steps}) AS g(k) ON x.t + 60 * g.k < COALESCE(x.nx, {limit})"
            f") AS held{rule_join} WHERE c >= {start} AND c < {limit} GROUP BY tag_id, p, s",
        )
        add_states(table)
        add_energy(table)
    produced, defects = _counter_growth(read, (role["output"], role["defects"]), cal, start)
    rejects = np.minimum(defects, produced)
    has_output = role["output"] >= 0
    cycle, estimated = np.full(m, np.nan), np.zeros(m, bool)
    if has_output.any():
        since = max(start, limit - ESTIMATE_WINDOW_S)
        cycle, estimated = _estimate_cycle(read, role["output"], since, limit)
    return Elements(
        machines=machines,
        calendar=cal,
        seconds=seconds,
        produced=produced,
        rejects=rejects,
        kwh=kwh,
        ideal_cycle_s=cycle,
        estimated=estimated,
        has_output=has_output,
        has_power=role["power"] >= 0,
    )


def _counter_growth(
    read: Reader, roles: tuple[np.ndarray, ...], cal: Calendar, start: int
) -> list[np.ndarray]:
    """Growth of each counter role (output, rejects) per machine and period, in one aggregate
    over the 1-hour rollups: an hour's last value minus the last of the hour before (up to a
    day before the window is looked at for the first hour's base); a drop is a reset."""
    growth = [np.zeros((len(r), cal.periods)) for r in roles]
    ids = np.unique(np.concatenate([r[r >= 0] for r in roles]))
    if len(ids) == 0:
        return growth
    table = read(
        ids,
        start - BASE_WINDOW_S,
        _seconds(cal.end),
        "1h",
        f"SELECT tag_id, {cal.period_sql('t')} AS p, sum(g) AS grow FROM ("
        " SELECT tag_id, t, CASE"
        "  WHEN pl IS NULL AND last >= max THEN last - min"  # no base: from the first value
        "  WHEN pl IS NULL THEN max - min + last"
        "  WHEN min >= pl AND last >= max THEN last - pl"  # no drop
        "  WHEN last >= max THEN last"  # dropped, then rose past the old values
        "  ELSE GREATEST(max - pl, 0) + last END AS g"  # rose, dropped (reset), rose again
        " FROM (SELECT tag_id, t, min, max, last,"
        "  lag(last) OVER (PARTITION BY tag_id ORDER BY t) AS pl FROM rollups) AS x"
        f") AS y WHERE t >= {start} GROUP BY tag_id, p",
    )
    tags = column(table, "tag_id").astype(np.int64)
    when = column(table, "p").astype(np.int64)
    grow = column(table, "grow", 0)
    for role, out in zip(roles, growth, strict=True):
        machine = _owner(role, tags)
        keep = (machine >= 0) & (when >= 0)
        np.add.at(out, (machine[keep], when[keep]), grow[keep])
    return growth


def _estimate_cycle(
    read: Reader, tag_ids: np.ndarray, low: int, high: int
) -> tuple[np.ndarray, np.ndarray]:
    """60 s over the 95th percentile of per-minute output (minutes that made something),
    per machine, in [low, high)."""
    ids = np.unique(tag_ids[tag_ids >= 0])
    table = read(
        ids,
        low - 60,
        high,
        "1m",
        "SELECT tag_id, percentile_cont(0.95) WITHIN GROUP (ORDER BY g) AS p95 FROM ("
        " SELECT tag_id, t, CASE WHEN last >= pl THEN last - pl ELSE last END AS g FROM ("
        "  SELECT tag_id, t, last, lag(last) OVER (PARTITION BY tag_id ORDER BY t) AS pl"
        "  FROM rollups) AS x WHERE pl IS NOT NULL) AS y"
        f" WHERE g > 0 AND t >= {low} GROUP BY tag_id",
    )
    cycle = np.full(len(tag_ids), np.nan)
    machine = _owner(tag_ids, column(table, "tag_id").astype(np.int64))
    rate = column(table, "p95", 0)
    keep = (machine >= 0) & (rate > 0)
    cycle[machine[keep]] = 60.0 / rate[keep]
    return cycle, np.isfinite(cycle)
