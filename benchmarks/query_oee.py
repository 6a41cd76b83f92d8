"""Company OEE over a month of 1-minute rollups, in the embedded DuckDB store.

Our figure: seconds for `analytics.service.oee_report` (OEE, six big losses, output and kWh per
good unit) of one company of 500 machines over 30 days, grouped by production day (and, in the
details, by machine): the store-side aggregates of the state and power minutes, the hourly
counter rows and the per-minute output of the last day, then numpy.
Reference, measured in the same run: the same figures computed per machine, one
`store.rollups()` call per machine (its four tags' 1-minute rows) and the same arithmetic in
numpy; the two must agree. Target (issue 3): at most 1 s.

The minutes are written straight into the store's rollup tables (as the store would keep them
from one reading every 10 s: a state that holds over each minute, counters that grow, power
that follows the state), day by day for all machines, as ingest would; the hours (rollups,
minutes, mean sums and levels) are then recomputed from the minutes by the store
(`DuckDBStore.rebuild_hours`, the rule an append applies to the hours it touches).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from _plant import bench_plant

from sandan.analytics import service
from sandan.analytics.shifts import ShiftPlan
from sandan.core.identity.principal import Principal
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.store import ROLLUPS

NAMES = ("state", "cycle_count", "defect_count", "power")
RATES = {1: {2: 4.0, 3: 0.6, 4: 0.5}, 2: {1: 30.0}, 3: {1: 3.0}, 4: {1: 4.0}}  # per hour
POWER_SHARE = np.array([0.03, 0.8, 0.25, 0.05, 0.3])
START = datetime(2026, 9, 30, 21, tzinfo=UTC)  # 06:00 in Gumi: a production day begins
PLAN = ShiftPlan.parse("06:00,14:00,22:00", "Asia/Seoul")


def _registry(machines: int, directory: Path) -> tuple[Any, Any, Principal, int, np.ndarray]:
    """A company with lines of 50 machines, each with a device and the four tags; returns the
    tag ids as an array [machine, tag]."""
    settings, ctx, s, system, company_id, site_id = bench_plant(directory)
    tags = np.zeros((machines, len(NAMES)), np.int64)
    with s:
        area = registry.create_asset(
            s, system, schemas.AssetIn(site_id=site_id, level="area", code="A", name="area")
        )
        line = None
        for i in range(machines):
            if i % 50 == 0:
                line = registry.create_asset(
                    s,
                    system,
                    schemas.AssetIn(
                        site_id=site_id,
                        parent_id=area.id,
                        level="line",
                        code=f"L{i // 50:02d}",
                        name="line",
                    ),
                )
            assert line is not None
            machine = registry.create_asset(
                s,
                system,
                schemas.AssetIn(
                    site_id=site_id, parent_id=line.id, level="machine", code=f"M{i:03d}", name="m"
                ),
            )
            device = registry.create_device(
                s, system, schemas.DeviceIn(site_id=site_id, machine_id=machine.id, name=f"d{i}")
            )
            for j, name in enumerate(NAMES):
                tag = registry.create_tag(
                    s,
                    system,
                    schemas.TagIn(
                        device_id=device.id, name=name, data_type="float" if j == 3 else "int"
                    ),
                )
                tags[i, j] = tag.id
        s.commit()
    return settings, ctx, system, company_id, tags


def _minutes(rng: np.random.Generator, days: int, machines: int) -> np.ndarray:
    """The state of each machine in each minute, a Markov chain as the simulator's."""
    steps = days * 1440 + 1
    states = np.empty((steps, machines), np.int8)
    state = np.where(rng.random(machines) < 0.8, 1, 2).astype(np.int8)
    for i in range(steps):
        draw = rng.random(machines)
        before = state.copy()
        for origin, targets in RATES.items():
            here = before == origin
            low = 0.0
            for target, rate in targets.items():
                p = rate / 60
                state[here & (draw >= low) & (draw < low + p)] = target
                low += p
        states[i] = state
    return states


def _write(store: DuckDBStore, tags: np.ndarray, days: int, rng: np.random.Generator) -> int:
    """Minute rollups from START − 1 minute, day by day for every machine; then the hours."""
    machines = len(tags)
    states = _minutes(rng, days, machines)
    rate = rng.uniform(12, 120, machines)  # units a minute while running
    rated_kw = rng.uniform(5, 80, machines)
    counters = np.zeros((2, machines))
    rows = 0
    base = np.datetime64(START.replace(tzinfo=None) - timedelta(minutes=1), "us")
    for day in range(days + 1):
        chunk = states[day * 1440 : (day + 1) * 1440].astype(np.int64)
        if len(chunk) == 0:
            break
        n = len(chunk)
        running = chunk == 1
        made = rng.poisson(rate * running)
        bad = rng.binomial(made, 0.02)
        cum = np.cumsum(np.stack([made, bad]), axis=1) + counters[:, None, :]
        first = np.concatenate([counters[:, None, :], cum[:, :-1]], axis=1)
        counters = cum[:, -1]
        kw = rated_kw * POWER_SHARE[chunk] * rng.uniform(0.95, 1.05, chunk.shape)
        stamps = base + (np.arange(n) + day * 1440).astype("timedelta64[m]")
        values = [
            (chunk, chunk, chunk, chunk),  # state: min, max, avg, last
            (first[0], cum[0], (first[0] + cum[0]) / 2, cum[0]),
            (first[1], cum[1], (first[1] + cum[1]) / 2, cum[1]),
            (kw * 0.97, kw * 1.03, kw, kw),
        ]
        for j, (low, high, mean, last) in enumerate(values):
            table = pa.table(
                {
                    "tag_id": pa.array(np.tile(tags[:, j], n), pa.int32()),
                    "bucket": pa.array(np.repeat(stamps, machines), pa.timestamp("us")),
                    "min": np.asarray(low, np.float64).ravel(),
                    "max": np.asarray(high, np.float64).ravel(),
                    "avg": np.asarray(mean, np.float64).ravel(),
                    "count": np.full(n * machines, 6, np.int64),
                    "last": np.asarray(last, np.float64).ravel(),
                },
                schema=ROLLUPS,
            )
            store._con.register("minutes_in", table)
            store._con.execute(
                "INSERT INTO rollup_1m (tag_id, bucket, min, max, avg, count, last) "
                "SELECT * FROM minutes_in"
            )
            store._con.unregister("minutes_in")
            rows += table.num_rows
    store.rebuild_hours()
    store._con.execute("CHECKPOINT")
    return rows


def _of(table: pa.Table, tag_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Unix seconds, last, avg) of one tag's minutes in a rollups() answer."""
    mask = table.column("tag_id").to_numpy() == tag_id
    t = table.column("bucket").cast(pa.int64()).to_numpy()[mask] // 1_000_000
    return t, table.column("last").to_numpy()[mask], table.column("avg").to_numpy()[mask]


def _reference(store: DuckDBStore, tags: np.ndarray, days: int) -> dict[str, np.ndarray]:
    """Per machine: its minutes in one rollups() call, then numpy; sums per production day."""
    start, end = START, START + timedelta(days=days)
    origin = int(start.timestamp())
    since = max(origin, int(end.timestamp()) - 86_400)  # the last day: the ideal cycle

    def per_day(t: np.ndarray, weights: np.ndarray) -> np.ndarray:
        inside = t >= origin
        return np.bincount((t[inside] - origin) // 86_400, weights[inside], minlength=days)

    sums = {k: np.zeros(days) for k in ("busy", "run", "ideal", "made", "good", "kwh")}
    for machine in tags:
        table = store.rollups([int(t) for t in machine], start - timedelta(days=1), end, "1m")
        st, state, _ = _of(table, machine[0])
        sums["busy"] += per_day(st, 60.0 * (state != 0))
        sums["run"] += per_day(st, 60.0 * (state == 1))
        ct, count, _ = _of(table, machine[1])
        grow = np.diff(count)  # the minutes follow each other: each minute's output
        p95 = np.percentile(grow[(ct[1:] >= since) & (grow > 0)], 95)
        made = per_day(ct[1:], grow)
        dt, defects, _ = _of(table, machine[2])
        bad = per_day(dt[1:], np.diff(defects))
        pt, _, kw = _of(table, machine[3])
        sums["kwh"] += per_day(pt, kw / 60)
        sums["made"] += made
        sums["good"] += made - np.minimum(bad, made)
        sums["ideal"] += 60.0 / p95 * made
    return sums


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--machines", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        began = time.perf_counter()
        settings, ctx, system, company_id, tags = _registry(args.machines, Path(directory))
        store = DuckDBStore(settings.resolved_telemetry_path())
        rows = _write(store, tags, args.days, np.random.default_rng(7))
        prepared = time.perf_counter() - began
        end = START + timedelta(days=args.days)

        def ours(group_by: str) -> tuple[float, dict[str, Any]]:
            with ctx.db.unit(system) as s:
                started = time.perf_counter()
                answer = service.oee_report(
                    s,
                    system,
                    store,
                    PLAN,
                    company_id=company_id,
                    start=START,
                    end=end,
                    group_by=group_by,  # type: ignore[arg-type]
                    now=end,
                )
                return time.perf_counter() - started, answer

        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        by_day = [ours("day") for _ in range(3)]
        by_machine = [ours("machine") for _ in range(3)]
        load = max(load, os.getloadavg()[0])
        value = statistics.median(t for t, _ in by_day)
        answer = by_day[0][1]

        started = time.perf_counter()
        ref = _reference(store, tags, args.days)
        reference = time.perf_counter() - started
        store.close()

    days = answer["groups"]
    oee_ref = (ref["run"] / ref["busy"]) * (ref["ideal"] / ref["run"]) * (ref["good"] / ref["made"])
    differences = {
        "oee": max(abs(g["oee"] - r) for g, r in zip(days, oee_ref, strict=True)),
        "kwh": max(abs(g["kwh"] - r) for g, r in zip(days, ref["kwh"], strict=True)),
        "good": max(abs(g["good"] - r) for g, r in zip(days, ref["good"], strict=True)),
    }
    print(
        json.dumps(
            {
                "metric": "company_oee_by_day_seconds",
                "value": round(value, 3),
                "unit": "s",
                "reference": round(reference, 3),
                "reference_name": (
                    "per machine: one store.rollups() call (its 1-minute rows) and the same "
                    "arithmetic in numpy"
                ),
                "ratio": round(value / reference, 4),
                "target": 1.0,
                "details": {
                    "machines": args.machines,
                    "days": args.days,
                    "rollup_1m_rows": rows,
                    "by_day_runs_s": [round(t, 3) for t, _ in by_day],
                    "by_machine_runs_s": [round(t, 3) for t, _ in by_machine],
                    "by_machine_s": round(statistics.median(t for t, _ in by_machine), 3),
                    "company_oee": round(answer["total"]["oee"], 4),
                    "company_kwh_per_good_unit": answer["total"]["kwh_per_good_unit"],
                    "max_difference_to_reference": differences,
                    "prepare_s": round(prepared, 1),
                    "store": "duckdb",
                    "load_average_1m": round(load, 2),
                    "cores": os.cpu_count(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
