"""Delay of max-pressure signal control against fixed time, on the complex's road network.

Our figure: mean delay per vehicle (SUMO time loss plus the wait to enter the network, every
vehicle counted, finished or not) under max-pressure with a 10 s minimum green, 3 s yellow
and 1 s all-red, deciding every 5 s from the standing queues read over TraCI.
Reference, measured in the same run on the same network, demand and seed: the network's
static fixed-time programme (netconvert's even split of a 90 s cycle). SUMO's Webster plan
for the same demand (tlsCycleAdaptation.py, one common cycle) runs too and is reported in
the details, so the gain of adaptivity over merely better fixed splits is visible.

Scenario: the 4×4 grid of the four zones with two arterials, one hour around the 14:00
shift change (the incoming shift's cars before the hour, mostly from the city side, the
outgoing shift's after it, trucks throughout), seed 7. Runs go two at a time, each its own
SUMO on its own port. `--full`: five seeds, and 1.5× the demand as well.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sandan.safety.traffic.control import Timing
from sandan.safety.traffic.demand import DemandSpec, build_routes
from sandan.safety.traffic.network import COMPLEX, build_network
from sandan.safety.traffic.plans import webster_plan
from sandan.safety.traffic.run import Controller, RunResult, Scenario, run_scenario

TIMING = Timing(min_green_s=10, yellow_s=3, all_red_s=1, decision_s=5)
CONTROLLERS: tuple[Controller, ...] = ("fixed", "webster", "max_pressure")


def _figures(run: RunResult, wall_s: float) -> dict[str, Any]:
    return {
        "mean_delay_s": round(run.mean_delay_s, 2),
        "mean_time_loss_s": round(run.mean_time_loss_s, 2),
        "mean_depart_delay_s": round(run.mean_depart_delay_s, 2),
        "mean_queue_veh_per_lane": round(run.mean_queue_veh, 3),
        "max_queue_veh": run.max_queue_veh,
        "halting_vehicle_hours": round(run.halting_vehicle_s / 3600, 1),
        "throughput_in_hour": run.arrived_in_horizon,
        "arrived": run.vehicles_arrived,
        "loaded": run.vehicles_loaded,
        "teleports": run.teleports,
        "phase_switches": len(run.switches),
        "wall_s": round(wall_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="five seeds, and 1.5x demand")
    args = parser.parse_args()
    seeds = [7, 8, 9, 10, 11] if args.full else [7]
    scales = [1.0, 1.5] if args.full else [1.0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sandan-traffic-bench-") as tmp:
        net = build_network(COMPLEX, Path(tmp))
        jobs = []
        for scale in scales:
            for seed in seeds:
                demand = DemandSpec().scaled(3600, scale, seed)
                routes = build_routes(net, demand)
                plan = webster_plan(net, routes, yellow_s=3, min_green_s=10)
                scenario = Scenario(net, routes, 3600, seed=seed, webster=plan)
                jobs += [(scale, seed, c, scenario) for c in CONTROLLERS]

        def one(job: tuple[float, int, Controller, Scenario]) -> dict[str, Any]:
            scale, seed, controller, scenario = job
            t0 = time.perf_counter()
            run = run_scenario(scenario, controller, TIMING)
            return {"scale": scale, "seed": seed, "controller": controller} | _figures(
                run, time.perf_counter() - t0
            )

        with ThreadPoolExecutor(max_workers=2) as pool:  # two SUMOs side by side, 2 cores
            results = list(pool.map(one, jobs))
    elapsed = time.perf_counter() - started

    def mean_of(controller: str, key: str, scale: float = 1.0) -> float:
        values = [r[key] for r in results if r["controller"] == controller and r["scale"] == scale]
        return round(statistics.fmean(values), 2)

    per_scale = {}
    for scale in scales:
        fixed = mean_of("fixed", "mean_delay_s", scale)
        per_scale[f"x{scale}"] = {
            c: {
                "mean_delay_s": mean_of(c, "mean_delay_s", scale),
                "mean_queue_veh_per_lane": mean_of(c, "mean_queue_veh_per_lane", scale),
                "max_queue_veh": mean_of(c, "max_queue_veh", scale),
                "throughput_in_hour": mean_of(c, "throughput_in_hour", scale),
                "delay_reduction_vs_fixed_pct": round(
                    100 * (fixed - mean_of(c, "mean_delay_s", scale)) / fixed, 1
                ),
            }
            for c in CONTROLLERS
        }
    value = mean_of("max_pressure", "mean_delay_s")
    reference = mean_of("fixed", "mean_delay_s")
    print(
        json.dumps(
            {
                "metric": "mean delay per vehicle under max-pressure signal control",
                "value": value,
                "unit": "s/vehicle",
                "reference": reference,
                "reference_name": (
                    "fixed-time static programme (netconvert, 90 s cycle, even split) on the "
                    "same network, demand and seeds"
                ),
                "ratio": round(value / reference, 4),
                "target": 1.0,
                "details": {
                    "delay_reduction_pct": round(100 * (reference - value) / reference, 1),
                    "webster_mean_delay_s": mean_of("webster", "mean_delay_s"),
                    "by_demand_scale": per_scale,
                    "runs": results,
                    "network": {"key": net.spec.key(), "junctions": COMPLEX.size**2},
                    "demand": "one hour around the 14:00 shift change (DemandSpec defaults)",
                    "timing": vars(TIMING),
                    "seeds": seeds,
                    "elapsed_s": round(elapsed, 1),
                    "cores": os.cpu_count(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
