"""Leak detection by minimum night flow: detection rate and false alarms against leak size.

The network is the demo complex's (60 factories, their DMAs), planned and run in WNTR with
`WNTRSimulator` (pressure-driven). For each seed the factories' demand is drawn for
`--nights` nights; an orifice leak of each size opens at a random node of a random DMA
(several locations per seed) on night `onset`, and the analysis runs on the metered readings
(1 % error per smart meter, 0.5 % per inlet meter).

Our figure: the smallest leak (orifice area, cm²) found in its own DMA in at least 90 % of the
runs within `--watch` nights, by the night-flow analysis with per-factory night profiles.
Reference, measured on the same runs: the same rule (14-night robust baseline, z = 4, two
nights in a row) on the textbook estimate of legitimate night use (6 % of the population
flushing 10 L an hour plus 8 L/h per property), i.e. the DMA's MNF trend. The details also
give the textbook's absolute reading (MNF minus defaults and 40 L/km/h background): in
Gumi's 24-h plants it calls nearly every DMA-night a leak.

Only the 02-04 h steps are simulated: the network has no tank, so hours are independent
steady states. Each seed's leak-free history is simulated once; a leak run simulates only
the nights from the onset, and those replace the leak-free nights.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sandan.registry.demo_data import build_demo_complex
from sandan.safety.water import nightflow as nf
from sandan.safety.water.demand import demand, factory_of, hours_from, local_clock
from sandan.safety.water.network import NetworkPlan, plan_network
from sandan.safety.water.simulate import Leak, run

START = datetime(2026, 3, 1, 15, tzinfo=UTC)  # 00:00 on 2 March in Gumi
SIZES_CM2 = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
TARGET_RATE = 0.9


def _plan(companies: int) -> NetworkPlan:
    demo = build_demo_complex(companies, seed=7)
    factories = [
        factory_of(i + 1, c.name, c.zone_code, c.sites[0].lat, c.sites[0].lon, c.employees, c.ksic)
        for i, c in enumerate(demo.companies)
    ]
    return plan_network(factories)


def _judge(
    plan: NetworkPlan,
    inlet: np.ndarray,
    ami: np.ndarray,
    hour: np.ndarray,
    night: np.ndarray,
    nights: int,
) -> tuple[nf.NightFlow, nf.NightFlow, np.ndarray]:
    inlet_n = nf.night_means(inlet, hour, night, nights)
    ami_n = nf.night_means(ami, hour, night, nights)
    people = np.array(
        [sum(plan.factories[i].employees for i in d.factories) for d in plan.dmas], dtype=float
    )
    props = np.array([len(d.factories) for d in plan.dmas], dtype=float)
    ours = nf.analyse(inlet_n, ami_n, plan.factory_dma())
    book = nf.textbook(inlet_n, people, props)
    absolute = nf.absolute_textbook_excess(inlet_n, people, props, plan.mains_km())
    return ours, book, absolute


def _outcome(flow: nf.NightFlow, dma: int | None, onset: int, watch: int) -> tuple[bool, int, int]:
    """(found in its DMA, DMAs with a false suspicion, DMA-nights watched elsewhere)."""
    window = flow.suspect[:, onset : onset + watch]
    others = [d for d in range(window.shape[0]) if d != dma]
    found = dma is not None and bool(window[dma].any())
    return found, int(window[others].any(axis=1).sum()), len(others)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="more seeds and locations")
    parser.add_argument("--companies", type=int, default=60)
    parser.add_argument("--nights", type=int, default=20)
    parser.add_argument("--watch", type=int, default=4, help="nights watched from the onset")
    args = parser.parse_args()
    seeds = range(5) if args.full else range(2)
    locations = 5 if args.full else 3
    onset = args.nights - args.watch
    started = time.perf_counter()
    plan = _plan(args.companies)
    hours = hours_from(START, args.nights * 24)
    hour, _, day = local_clock(hours)
    pick = np.isin(hour, nf.NIGHT_HOURS)
    hour, night = hour[pick], (day - day[0])[pick]
    later = night >= onset
    nodes = [n for n in plan.nodes if n.kind in ("tap", "inlet") and n.dma is not None]
    dma_index = {d.code: i for i, d in enumerate(plan.dmas)}
    tally: dict[str, dict[float, list[int]]] = {"ours": {}, "textbook": {}}
    clean = {"ours": [0, 0], "textbook": [0, 0]}
    absolute_hits: list[float] = []
    leak_m3h: dict[float, list[float]] = {}
    runs = 0
    for seed in seeds:
        load = demand(plan.factories, hours, seed)[:, pick]
        base = run(plan, load)
        runs += 1
        rng = np.random.default_rng([seed, 99])
        inlet_err = 1 + rng.normal(0, 0.005, base.inlet.shape)
        ami_err = 1 + rng.normal(0, 0.01, base.ami.shape)
        ours, book, absolute = _judge(
            plan, base.inlet * inlet_err, base.ami * ami_err, hour, night, args.nights
        )
        for name, flow in (("ours", ours), ("textbook", book)):
            _, false, watched = _outcome(flow, None, onset, args.watch)
            clean[name][0] += false
            clean[name][1] += watched
        absolute_hits.append(float((absolute[:, onset:] > 0).mean()))
        places = random.Random(seed).sample(nodes, locations)
        for size in SIZES_CM2:
            for node in places:
                leaky = run(plan, load[:, later], Leak(node.id, size, 0))
                runs += 1
                inlet, ami = base.inlet.copy(), base.ami.copy()
                inlet[:, later], ami[:, later] = leaky.inlet, leaky.ami
                ours, book, _ = _judge(
                    plan, inlet * inlet_err, ami * ami_err, hour, night, args.nights
                )
                leak_m3h.setdefault(size, []).append(float(leaky.leak.mean()))
                for name, flow in (("ours", ours), ("textbook", book)):
                    found, false, watched = _outcome(
                        flow, dma_index[node.dma or ""], onset, args.watch
                    )
                    row = tally[name].setdefault(size, [0, 0, 0, 0])
                    row[0] += found
                    row[1] += 1
                    row[2] += false
                    row[3] += watched
    elapsed = time.perf_counter() - started

    def smallest(name: str) -> float | None:
        return next(
            (s for s in SIZES_CM2 if tally[name][s][0] / tally[name][s][1] >= TARGET_RATE), None
        )

    per_size: dict[str, Any] = {}
    for size in SIZES_CM2:
        per_size[f"{size:g}cm2"] = {
            "leak_m3h": round(float(np.mean(leak_m3h[size])), 2),
            **{
                name: {
                    "detection_rate": round(tally[name][size][0] / tally[name][size][1], 3),
                    "false_alarm_rate": round(tally[name][size][2] / tally[name][size][3], 4),
                }
                for name in ("ours", "textbook")
            },
        }
    value, reference = smallest("ours"), smallest("textbook")
    # Never reaching 90 % is reported as twice the largest size tried (and flagged below).
    ref_value = reference if reference is not None else 2 * SIZES_CM2[-1]
    print(
        json.dumps(
            {
                "metric": "smallest leak found in its DMA in >= 90 % of runs",
                "value": value,
                "unit": "cm2 orifice",
                "reference": ref_value,
                "reference_name": (
                    "textbook MNF (6 % population x 10 L/h + 8 L/h per property) with the same "
                    "baseline and k-night rule, on the same runs"
                ),
                "ratio": None if value is None else round(value / ref_value, 4),
                "target": 1.0,
                "details": {
                    "per_size": per_size,
                    "reference_reached_90pct": reference is not None,
                    "false_alarm_rate_no_leak": {
                        k: round(v[0] / v[1], 4) for k, v in clean.items()
                    },
                    "textbook_absolute_leak_calls_share_of_dma_nights": round(
                        float(np.mean(absolute_hits)), 3
                    ),
                    "false_alarm_rate_means": "share of leak-free DMAs with any suspicion "
                    "in the watched nights",
                    "dmas": len(plan.dmas),
                    "factories": len(plan.factories),
                    "seeds": len(seeds),
                    "locations_per_seed": locations,
                    "nights": args.nights,
                    "watch_nights": args.watch,
                    "wntr_runs": runs,
                    "elapsed_s": round(elapsed, 1),
                    "cores": os.cpu_count(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
