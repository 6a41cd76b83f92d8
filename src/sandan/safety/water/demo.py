"""The demo's water history: meters registered, the WNTR model run over the last nights with
a small leak opened in one DMA two nights ago, the meter readings stored, and the latest
night judged, so the control centre shows a leak alarm in the right DMA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.safety.water import service
from sandan.safety.water.analysis import night_span
from sandan.safety.water.demand import demand, hours_from
from sandan.safety.water.readings import load_plan, provision, write
from sandan.safety.water.simulate import Leak, metered, run
from sandan.telemetry.store import TelemetryStore


@dataclass(frozen=True)
class WaterDemo:
    stored: int
    leak_dma: str | None
    leak_node: str | None
    suspected: list[str]


def seed_water(
    session: Session,
    store: TelemetryStore,
    *,
    now: datetime | None = None,
    nights: int = 16,
    seed: int = 7,
    leak_cm2: float | None = 1.0,
) -> WaterDemo | None:
    """Write `nights` nights of meter history up to `now` (None without located factories);
    with `leak_cm2`, a leak opens at a main node of the largest DMA before the last two
    nights."""
    principal = Principal.system("water-demo")
    now = now or utcnow()
    plan = load_plan(session)
    if plan is None:
        return None
    m = provision(session, principal, plan)
    span = night_span(now, nights)
    count = span.count + 20  # through the morning after the last night
    hours = hours_from(span.start, count)
    hours = hours[hours <= np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")]
    load = demand(plan.factories, hours, seed)
    leak = None
    dma = None
    if leak_cm2 is not None and len(plan.dmas) > 0:
        dma = max(plan.dmas, key=lambda d: (len(d.factories), d.code))
        taps = sorted(n.id for n in plan.nodes if n.kind == "tap" and n.dma == dma.code)
        onset = span.start + timedelta(hours=(nights - 2) * 24 - 3)  # 21:00 before night −2
        start = int(np.searchsorted(hours, np.datetime64(onset.replace(tzinfo=None), "us")))
        leak = Leak(taps[len(taps) // 2], leak_cm2, start)
    result = run(plan, load, leak)
    inlet, ami = metered(result, seed)
    stored = write(store, plan, m, hours, inlet, ami)
    session.flush()
    found = service.evaluate(session, principal, store, now)
    return WaterDemo(
        stored, dma.code if dma else None, leak.node if leak else None, [s.dma for s in found]
    )
