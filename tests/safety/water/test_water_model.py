"""The network plan and real WNTR runs on the small fixed complex: a sound network, a leak
found by night-flow analysis in the right DMA only, and what-if breaks."""

from __future__ import annotations

from datetime import UTC, datetime

import networkx as nx
import numpy as np
import pytest

from sandan.safety.water import nightflow as nf
from sandan.safety.water.demand import demand, hours_from, local_clock, sample_factories
from sandan.safety.water.network import REQUIRED_PRESSURE_M, NetworkPlan, build_model, plan_network
from sandan.safety.water.simulate import Leak, metered, run, what_if

NIGHTS = 24
LEAK_NIGHT = 18


@pytest.fixture(scope="module")
def plan() -> NetworkPlan:
    return plan_network(sample_factories(), per_dma=4)


def test_the_plan_is_deterministic_and_every_factory_has_one_dma(plan: NetworkPlan) -> None:
    assert plan == plan_network(sample_factories(), per_dma=4)
    assert [d.code for d in plan.dmas] == ["Z1-1", "Z1-2", "Z2-1"]
    members = sorted(i for d in plan.dmas for i in d.factories)
    assert members == list(range(len(plan.factories)))
    assert all(len(d.factories) <= 4 for d in plan.dmas)
    # each DMA is fed through exactly one (metered) inlet pipe
    inlets = [p for p in plan.pipes if p.kind == "inlet"]
    assert sorted(p.dma or "" for p in inlets) == ["Z1-1", "Z1-2", "Z2-1"]


def test_the_network_is_connected_and_serves_every_factory(plan: NetworkPlan) -> None:
    hours = hours_from(datetime(2026, 3, 4, 0, tzinfo=UTC), 24)  # a Wednesday
    load = demand(plan.factories, hours, seed=1)
    wn = build_model(plan, load)
    assert nx.is_connected(wn.to_graph().to_undirected())
    result = run(plan, load)
    assert result.pressure.min() >= REQUIRED_PRESSURE_M  # peak hour included
    np.testing.assert_allclose(result.ami, load, rtol=1e-3)  # full supply under PDD
    # the inlets carry exactly what their factories draw
    member = nf.membership(plan.factory_dma(), len(plan.dmas))
    np.testing.assert_allclose(result.inlet, member @ result.ami, rtol=1e-3)


def test_24h_plants_make_the_night_flow_mostly_legitimate(plan: NetworkPlan) -> None:
    hours = hours_from(datetime(2026, 3, 2, 15, tzinfo=UTC), 24 * 14)
    load = demand(plan.factories, hours, seed=1)
    hour, weekday, _ = local_clock(hours)
    night = np.isin(hour, nf.NIGHT_HOURS)
    three = np.array([f.shifts == "3" for f in plan.factories])
    assert three.sum() >= 6
    assert load[three][:, night].mean() > 0.8 * load[three].mean()
    # and a Sunday shutdown shows in the night flow
    off = np.array([f.sunday_off for f in plan.factories])
    assert off.any()
    sunday_night = night & (weekday == 6)
    assert load[off][:, sunday_night].mean() < 0.3 * load[off][:, night & (weekday == 2)].mean()


def _night_run(plan: NetworkPlan, leak: Leak | None, seed: int) -> nf.NightFlow:
    """Only the 02-04 h steps are simulated (no tank: hours are independent)."""
    hours = hours_from(datetime(2026, 3, 1, 15, tzinfo=UTC), NIGHTS * 24)
    hour, _, day = local_clock(hours)
    pick = np.isin(hour, nf.NIGHT_HOURS)
    load = demand(plan.factories, hours, seed)[:, pick]
    result = run(plan, load, leak)
    inlet, ami = metered(result, seed)
    night = (day - day[0])[pick]
    return nf.analyse(
        nf.night_means(inlet, hour[pick], night, NIGHTS),
        nf.night_means(ami, hour[pick], night, NIGHTS),
        plan.factory_dma(),
    )


def _tap(plan: NetworkPlan, dma: str) -> str:
    return sorted(n.id for n in plan.nodes if n.kind == "tap" and n.dma == dma)[1]


def test_a_leak_in_the_wntr_model_is_found_in_its_dma_only(plan: NetworkPlan) -> None:
    start = 2 * LEAK_NIGHT  # two simulated steps per night
    out = _night_run(plan, Leak(_tap(plan, "Z1-2"), area_cm2=0.5, start=start), seed=5)
    assert not out.suspect[:, :LEAK_NIGHT].any()
    assert out.suspect[1, LEAK_NIGHT + 1 :].all()  # Z1-2 from the 2nd night of the leak
    assert not out.suspect[[0, 2]].any()  # Z1-1 and Z2-1 stay quiet
    excess = out.unexplained[1, -1] - out.baseline[1, -1]
    assert 3.0 < excess < 6.0  # a 0.5 cm² orifice at ~50 m loses about 4 m³/h


def test_no_leak_no_suspicion(plan: NetworkPlan) -> None:
    for seed in (1, 2):
        assert not _night_run(plan, None, seed).suspect.any()


def test_closing_a_dma_inlet_cuts_its_factories_off(plan: NetworkPlan) -> None:
    hours = hours_from(datetime(2026, 3, 4, 2, tzinfo=UTC), 1)  # 11 h local
    load = demand(plan.factories, hours, seed=1)
    impacts = what_if(plan, load, pipe="Z1-2-IN", mode="close")
    dma = plan.factory_dma()
    below = {i.factory for i in impacts if i.after_m < REQUIRED_PRESSURE_M}
    assert below == set(plan.dmas[1].factories)
    assert all(i.before_m >= REQUIRED_PRESSURE_M for i in impacts)
    assert all(abs(i.after_m - i.before_m) < 5 for i in impacts if dma[i.factory] != 1)


def test_a_burst_main_drops_pressure_most_near_it(plan: NetworkPlan) -> None:
    hours = hours_from(datetime(2026, 3, 4, 2, tzinfo=UTC), 1)
    load = demand(plan.factories, hours, seed=1)
    impacts = what_if(plan, load, pipe="Z2-1-IN", mode="break", leak_area_cm2=300)
    drops = np.array([i.before_m - i.after_m for i in impacts])
    dma = plan.factory_dma()
    assert drops[dma == 2].min() > drops[dma != 2].max()
    assert drops[dma == 2].min() > 10
