"""The water area end to end on stored readings: meters registered, the model's readings in
the telemetry store, the leak found in its DMA, an alarm and an event raised and cleared, the
DMA balance, a factory's night profile, and who may see what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
from water_world import NOW, add_factories, seed

from conftest import World
from sandan.core.context import Context
from sandan.core.db import EVENTS_KEY
from sandan.core.errors import NotFound, PermissionDenied
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role
from sandan.safety.alarms.service import open_for
from sandan.safety.water import service
from sandan.safety.water.readings import load_plan
from sandan.settings import Settings
from sandan.telemetry.factory import make_store
from sandan.telemetry.store import TelemetryStore


@pytest.fixture
def store(settings: Settings) -> Iterator[TelemetryStore]:
    made = make_store(settings)
    yield made
    made.close()


def test_the_leak_is_found_in_its_dma_from_stored_readings(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    add_factories(ctx, world)
    demo = seed(ctx, store)
    assert demo.stored > 0
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        plan = load_plan(s)
        assert plan is not None
        assert [d.code for d in plan.dmas] == ["Z1-1", "Z2-1", "Z3-1", "Z4-1"]
        assert demo.suspected == [demo.leak_dma]
        found = service.suspicions(s, system, store, NOW)
        assert [f.dma for f in found] == [demo.leak_dma]
        assert found[0].nights == 2 and found[0].excess > found[0].threshold
        assert found[0].since == (NOW + timedelta(hours=9)).date() - timedelta(days=1)
        alarm = open_for(s, f"dma:{demo.leak_dma}", "night_flow_leak")
        assert alarm is not None and alarm.kind == "water" and alarm.in_alarm
        for dma in plan.dmas:
            if dma.code != demo.leak_dma:
                assert open_for(s, f"dma:{dma.code}", "night_flow_leak") is None
        nights = service.night_flow(s, system, store, demo.leak_dma or "", NOW).nights
        assert [n.exceeds for n in nights[-3:]] == [False, True, True]
        assert [n.suspect for n in nights[-3:]] == [False, False, True]
        quiet = service.night_flow(
            s, system, store, "Z4-1" if demo.leak_dma != "Z4-1" else "Z1-1", NOW
        )
        assert not any(n.suspect for n in quiet.nights)


def test_evaluation_announces_the_leak_and_clears_when_the_night_is_normal(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    add_factories(ctx, world)
    demo = seed(ctx, store)
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        found = service.evaluate(s, system, store, NOW)
        events = [
            e for e in s.info.get(EVENTS_KEY, []) if e.subject == "safety.water_leak_suspected"
        ]
        assert [e.payload["dma"] for e in events] == [demo.leak_dma]
        assert [f.dma for f in found] == [demo.leak_dma]
    with ctx.db.unit(system) as s:  # a day later the night is unmeasured: nothing suspected
        assert service.evaluate(s, system, store, NOW + timedelta(days=1)) == []
        alarm = open_for(s, f"dma:{demo.leak_dma}", "night_flow_leak")
        assert alarm is not None and not alarm.in_alarm  # returned to normal, unacknowledged


def test_the_balance_shows_the_leak_as_loss(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    add_factories(ctx, world)
    demo = seed(ctx, store)
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        out = service.balance(s, system, store, demo.leak_dma or "", hours=24 * 4, now=NOW)
        other = service.balance(
            s, system, store, "Z1-1" if demo.leak_dma != "Z1-1" else "Z2-1", hours=24 * 4, now=NOW
        )
    assert out.meters >= 2
    loss = np.array([p.loss if p.loss is not None else np.nan for p in out.points])
    inlet = np.array([p.inlet or 0.0 for p in out.points])
    early, late = loss[:24], loss[-24:]
    assert np.nanmean(late) > 5.0  # a 1 cm² leak at ~50 m is about 8 m³/h
    assert abs(np.nanmean(early)) < 0.02 * inlet[:24].mean()  # only meter error before
    other_loss = np.array([p.loss for p in other.points if p.loss is not None])
    assert abs(other_loss.mean()) < 1.0


def test_a_company_admin_reads_only_its_own_night_profile(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    ids = add_factories(ctx, world)
    seed(ctx, store, leak_cm2=None)
    mine = ids["F0"]
    admin = Principal.for_user(1, "admin", mine, frozenset({Role.company_admin}))
    member = Principal.for_user(2, "member", mine, frozenset({Role.company_member}))
    with ctx.db.unit(admin) as s:
        profile = service.night_profile(s, admin, store, mine, NOW)
        assert profile.tag_id is not None and profile.dma == "Z1-1"
        uses = [n.use for n in profile.nights if n.use is not None]
        assert len(uses) == 18 and profile.median == pytest.approx(np.median(uses[-14:]), abs=1e-3)
        with pytest.raises(NotFound):
            service.night_profile(s, admin, store, ids["F1"], NOW)
        with pytest.raises(PermissionDenied):
            service.night_profile(s, member, store, mine, NOW)
        with pytest.raises(PermissionDenied):
            service.suspicions(s, admin, store, NOW)
        with pytest.raises(PermissionDenied):
            service.panel(s, admin, store)


def test_the_panel_lists_every_dma_and_the_open_suspicion(
    ctx: Context, world: World, store: TelemetryStore
) -> None:
    add_factories(ctx, world)
    seed(ctx, store)
    safety = Principal.for_user(3, "safety", None, frozenset({Role.safety_operator}))
    with ctx.db.unit(safety) as s:
        panel = service.panel(s, safety, store)
    assert [d["code"] for d in panel["dmas"]] == ["Z1-1", "Z2-1", "Z3-1", "Z4-1"]
    assert isinstance(panel["suspicions"], list)
