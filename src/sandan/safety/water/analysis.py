"""The stored meter readings of the last nights, put through the night-flow analysis.

Nights are local (KST): night d is 02-04 h on date d. The last night analysed is the latest
whose 04:00 has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.safety.water import nightflow
from sandan.safety.water.demand import KST, hours_from, local_clock
from sandan.safety.water.network import NetworkPlan
from sandan.safety.water.readings import Meters, hourly
from sandan.telemetry.store import TelemetryStore


@dataclass(frozen=True)
class Span:
    """The hours holding `nights` nights ending with the latest complete one."""

    start: datetime  # UTC, 00:00 local of the first night's date
    count: int
    nights: list[date]
    hour: np.ndarray  # local hour of each hour
    night: np.ndarray  # night index of each hour (its local date's)


def night_span(now: datetime, nights: int) -> Span:
    """The span for `nights` nights ending with the last night whose 04:00 has passed."""
    local = now.astimezone(KST)
    last = local.date() if local.hour >= 4 else local.date() - timedelta(days=1)
    first = last - timedelta(days=nights - 1)
    start = datetime.combine(first, time(0), KST).astimezone(UTC)
    count = (nights - 1) * 24 + 4
    hours = hours_from(start, count)
    hour, _, day = local_clock(hours)
    return Span(
        start, count, [first + timedelta(days=i) for i in range(nights)], hour, day - day[0]
    )


@dataclass(frozen=True)
class Analysis:
    plan: NetworkPlan
    meters: Meters
    span: Span
    ami_nights: np.ndarray  # factories × nights (NaN: no meter or no reading)
    flow: nightflow.NightFlow


def analyse(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    plan: NetworkPlan,
    m: Meters,
    now: datetime,
    nights: int,
    params: nightflow.Params | None = None,
) -> Analysis:
    """Read the inlet and smart-meter hours of the span and analyse every DMA at once."""
    span = night_span(now, nights)
    inlet_ids = [m.inlet.get(d.code, -1) for d in plan.dmas]
    ami_ids = [m.ami.get(f.company_id, -1) for f in plan.factories]
    values = hourly(session, principal, store, [*inlet_ids, *ami_ids], span.start, span.count)
    inlet = nightflow.night_means(values[: len(inlet_ids)], span.hour, span.night, nights)
    ami = nightflow.night_means(values[len(inlet_ids) :], span.hour, span.night, nights)
    flow = nightflow.analyse(inlet, ami, plan.factory_dma(), params)
    return Analysis(plan, m, span, ami, flow)


def number(value: float | np.floating) -> float | None:
    """A finite value rounded for the API, else None."""
    v = float(value)
    return round(v, 3) if np.isfinite(v) else None
