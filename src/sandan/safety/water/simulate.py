"""Runs of the WNTR model: hourly flows for the meters, leaks, and what-if pipe breaks.

Leaks need WNTR's own `WNTRSimulator` (EPANET has no leak model), in pressure-driven mode.
The network has no tank, so hours are independent steady states: a run may simulate only the
hours it needs (the benchmark runs the 02-04 h steps alone) and give the same values.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import wntr  # type: ignore[import-untyped]

from sandan.safety.water.network import NetworkPlan, build_model

DISCHARGE_COEFF = 0.75  # a sharp-edged orifice


@dataclass(frozen=True)
class Leak:
    """An orifice leak at a node, from step `start` (index into the run's steps) onwards."""

    node: str
    area_cm2: float
    start: int = 0


@dataclass(frozen=True)
class Run:
    """Hourly results, m³/h: each DMA's inlet flow, each factory's metered use (what reached
    it under PDD), the leak's outflow; and each factory's pressure, m."""

    inlet: np.ndarray  # DMAs × steps
    ami: np.ndarray  # factories × steps
    leak: np.ndarray  # steps
    pressure: np.ndarray  # factories × steps


def run(plan: NetworkPlan, demand_m3h: np.ndarray, leak: Leak | None = None) -> Run:
    """Simulate the plan under this demand (factories × steps), optionally with a leak."""
    wn = build_model(plan, demand_m3h)
    if leak is not None:
        node = wn.get_node(leak.node)
        node.add_leak(
            wn,
            area=leak.area_cm2 / 1e4,
            discharge_coeff=DISCHARGE_COEFF,
            start_time=leak.start * 3600,
            end_time=None,
        )
    return _extract(
        plan, wntr.sim.WNTRSimulator(wn).run_sim(), demand_m3h.shape[1], leak.node if leak else None
    )


def _extract(plan: NetworkPlan, results: Any, steps: int, leak_node: str | None) -> Run:
    flows = results.link["flowrate"]
    demands = results.node["demand"]
    inlet = np.stack([flows[d.inlet_pipe].to_numpy()[:steps] for d in plan.dmas]) * 3600
    fac = [f"F{f.company_id}" for f in plan.factories]
    ami = demands[fac].to_numpy()[:steps].T * 3600
    pressure = results.node["pressure"][fac].to_numpy()[:steps].T
    leak = np.zeros(steps)
    if leak_node is not None:
        leak = results.node["leak_demand"][leak_node].to_numpy()[:steps] * 3600
    return Run(np.abs(inlet), ami, leak, pressure)


def metered(
    result: Run, seed: int, ami_error: float = 0.01, inlet_error: float = 0.005
) -> tuple[np.ndarray, np.ndarray]:
    """What the meters report: relative Gaussian errors on the inlet and each smart meter."""
    rng = np.random.default_rng([seed, 99])
    inlet = result.inlet * (1 + rng.normal(0, inlet_error, result.inlet.shape))
    ami = result.ami * (1 + rng.normal(0, ami_error, result.ami.shape))
    return inlet, ami


@dataclass(frozen=True)
class Impact:
    factory: int  # index into plan.factories
    before_m: float
    after_m: float


_cache_lock = threading.Lock()
_base_cache: dict[tuple[int, bytes], dict[str, Any]] = {}


def _base_dict(plan: NetworkPlan, demand: np.ndarray) -> dict[str, Any]:
    """The base model as a dict, cached per plan and demand (building is the slow part;
    `from_dict` copies it in milliseconds, and each what-if must not touch the original)."""
    key = (hash(plan), np.round(demand, 6).tobytes())
    with _cache_lock:
        cached = _base_cache.get(key)
        if cached is None:
            if len(_base_cache) > 8:
                _base_cache.clear()
            cached = _base_cache[key] = build_model(plan, demand).to_dict()
    return cached


def _pressures(wn: wntr.network.WaterNetworkModel, plan: NetworkPlan) -> np.ndarray:
    res = wntr.sim.WNTRSimulator(wn).run_sim()
    fac = [f"F{f.company_id}" for f in plan.factories]
    out: np.ndarray = res.node["pressure"][fac].to_numpy()[-1]
    return out


def what_if(
    plan: NetworkPlan,
    demand_m3h: np.ndarray,
    *,
    pipe: str | None = None,
    node: str | None = None,
    mode: str = "break",
    leak_area_cm2: float = 100.0,
) -> list[Impact]:
    """Pressure at every factory before and after breaking or closing `pipe`, or opening a
    leak at `node`, at one steady hour (`demand_m3h`: factories × 1)."""
    base = _base_dict(plan, demand_m3h)
    before = _pressures(wntr.network.from_dict(base), plan)
    wn = wntr.network.from_dict(base)
    if pipe is not None:
        if mode == "close":
            wn.get_link(pipe).initial_status = wntr.network.LinkStatus.Closed
        else:  # a burst: the pipe splits, water escapes at the break and the pipe is lost
            wn = wntr.morph.split_pipe(wn, pipe, f"{pipe}-B", f"{pipe}-BRK")
            wn.get_node(f"{pipe}-BRK").add_leak(
                wn, area=leak_area_cm2 / 1e4, discharge_coeff=DISCHARGE_COEFF, start_time=0
            )
    elif node is not None:
        wn.get_node(node).add_leak(
            wn, area=leak_area_cm2 / 1e4, discharge_coeff=DISCHARGE_COEFF, start_time=0
        )
    after = _pressures(wn, plan)
    return [
        Impact(i, float(b), float(a)) for i, (b, a) in enumerate(zip(before, after, strict=True))
    ]
