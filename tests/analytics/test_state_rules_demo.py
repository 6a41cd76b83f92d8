"""The demo's state rules: every power-only machine of the demo plan gets one, and its
thresholds tell the simulator's states apart from the power the simulator draws for them."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from sandan.analytics.demo import IDLE_SHARE, RUN_SHARE, seed_state_rules
from sandan.analytics.models import StateRule
from sandan.analytics.oee import CHANGEOVER, DOWN, IDLE, PLANNED_STOP, RUNNING
from sandan.analytics.states import PowerRule
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry.demo import seed_demo
from sandan.registry.demo_data import build_demo_complex
from sandan.simulator.machines import POWER_SHARE


def test_every_power_only_demo_machine_gets_a_rule(ctx: Context) -> None:
    plan = build_demo_complex(n_companies=8)
    power_only = [
        m
        for c in plan.companies
        for site in c.sites
        for area in site.areas
        for line in area.lines
        for m in line.machines
        if {"power"} <= {t.name for t in m.tags} and "state" not in {t.name for t in m.tags}
    ]
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        seed_demo(s, n_companies=8)
        made = seed_state_rules(s)
    with ctx.db.unit(system) as s:
        rules = s.scalars(select(StateRule)).all()
    assert power_only and made == len(rules) == len(power_only)
    assert {r.off_state for r in rules} == {DOWN}
    for r in rules:
        assert r.run_kw == pytest.approx(r.idle_kw * RUN_SHARE / IDLE_SHARE, abs=2e-3)


def test_the_demo_thresholds_recover_the_simulated_states() -> None:
    """Power is the range's top times the state's share, +-5 %: at both ends of the noise
    the rule reads running as running, idle and changeover as idle, the rest as down."""
    high = 80.0
    rule = PowerRule(IDLE_SHARE * high, RUN_SHARE * high, DOWN)
    expected = {RUNNING: RUNNING, IDLE: IDLE, CHANGEOVER: IDLE, DOWN: DOWN, PLANNED_STOP: DOWN}
    for state, seen in expected.items():
        kw = high * POWER_SHARE[state] * np.array([0.95, 1.05])
        assert rule.states(kw).tolist() == [seen, seen], state
