"""Rules of the water area: the network for the map, DMA balances, night flow, leak
suspicions and their alarms, factory night profiles, what-if breaks, the control-centre panel.

The control centre (safety:operate) sees every DMA; a company admin sees only the night
profile of its own factory. Functions take the telemetry store as they read meters from it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role, Scope
from sandan.safety.water import nightflow, schemas
from sandan.safety.water.alarming import clear_leak, raise_leak
from sandan.safety.water.analysis import Analysis, analyse, night_span, number
from sandan.safety.water.demand import KST, demand, hours_from
from sandan.safety.water.network import NetworkPlan
from sandan.safety.water.readings import hourly, load_plan, meters
from sandan.safety.water.simulate import what_if as simulate_what_if
from sandan.telemetry.store import TelemetryStore

NIGHTS = 28  # nights read for an analysis: a 14-night window plus two weeks to show


def _operate(principal: Principal) -> None:
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("the water network is for the control centre")


def _plan(session: Session) -> NetworkPlan:
    plan = load_plan(session)
    if plan is None:
        raise NotFound("no located factories, so no water network yet")
    return plan


def _dma_index(plan: NetworkPlan, code: str) -> int:
    for i, dma in enumerate(plan.dmas):
        if dma.code == code:
            return i
    raise NotFound(f"DMA {code} not found")


def network(session: Session, principal: Principal) -> schemas.NetworkOut:
    """The network as GeoJSON features (nodes and pipes) with its DMAs, for the map."""
    _operate(principal)
    plan = _plan(session)
    m = meters(session, principal, plan)
    where = {n.id: n for n in plan.nodes}
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [n.lon, n.lat]},
            "properties": {
                "id": n.id,
                "kind": n.kind,
                "dma": n.dma,
                "company_id": n.company_id,
                "elevation": n.elevation,
            },
        }
        for n in plan.nodes
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [where[p.start].lon, where[p.start].lat],
                    [where[p.end].lon, where[p.end].lat],
                ],
            },
            "properties": {
                "id": p.id,
                "kind": p.kind,
                "dma": p.dma,
                "length_m": p.length_m,
                "diameter_mm": round(p.diameter_m * 1000),
            },
        }
        for p in plan.pipes
    ]
    return schemas.NetworkOut(
        dmas=[
            schemas.DmaOut(
                code=d.code,
                zone=d.zone,
                factories=len(d.factories),
                inlet_tag_id=m.inlet.get(d.code),
                lat=d.lat,
                lon=d.lon,
            )
            for d in plan.dmas
        ],
        junctions=sum(n.kind != "reservoir" for n in plan.nodes),
        pipes=len(plan.pipes),
        mains_km=round(float(plan.mains_km().sum()), 3),
        features={"type": "FeatureCollection", "features": features},
    )


def balance(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    code: str,
    hours: int = 48,
    now: datetime | None = None,
) -> schemas.BalanceOut:
    """Hourly flow balance of a DMA: inlet − Σ metered factory use = loss (non-revenue)."""
    _operate(principal)
    if not 1 <= hours <= 24 * 31:
        raise ValidationFailed.one("hours", "between 1 and 744")
    plan = _plan(session)
    d = _dma_index(plan, code)
    m = meters(session, principal, plan)
    end = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    members = [plan.factories[i].company_id for i in plan.dmas[d].factories]
    ami_ids = [m.ami[c] for c in members if c in m.ami]
    values = hourly(session, principal, store, [m.inlet.get(code, -1), *ami_ids], start, hours)
    inlet = values[0]
    # A missing smart-meter hour makes the sum unknown rather than quietly lower.
    metered = values[1:].sum(axis=0) if ami_ids else np.full(hours, np.nan)
    stamps = hours_from(start, hours).astype(datetime)
    return schemas.BalanceOut(
        dma=code,
        meters=len(ami_ids),
        points=[
            schemas.BalancePoint(
                ts=ts.replace(tzinfo=start.tzinfo),
                inlet=number(i),
                metered=number(mt),
                loss=number(i - mt),
            )
            for ts, i, mt in zip(stamps, inlet, metered, strict=True)
        ],
    )


def _analysis(
    session: Session, principal: Principal, store: TelemetryStore, now: datetime | None
) -> Analysis:
    plan = _plan(session)
    return analyse(
        session, principal, store, plan, meters(session, principal, plan), now or utcnow(), NIGHTS
    )


def night_flow(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    code: str,
    now: datetime | None = None,
) -> schemas.NightFlowOut:
    """A DMA's nights: MNF, legitimate use from the factories' meters, unexplained flow,
    its baseline and threshold, and whether a leak is suspected."""
    _operate(principal)
    a = _analysis(session, principal, store, now)
    d = _dma_index(a.plan, code)
    f = a.flow
    return schemas.NightFlowOut(
        dma=code,
        window=14,
        consecutive=2,
        nights=[
            schemas.NightOut(
                night=night,
                mnf=number(f.mnf[d, n]),
                legitimate=number(f.legitimate[d, n]),
                unexplained=number(f.unexplained[d, n]),
                baseline=number(f.baseline[d, n]),
                threshold=number(f.threshold[d, n]),
                exceeds=bool(f.exceeds[d, n]),
                suspect=bool(f.suspect[d, n]),
            )
            for n, night in enumerate(a.span.nights)
        ],
    )


def _suspicions(a: Analysis) -> list[schemas.SuspicionOut]:
    f, last = a.flow, len(a.span.nights) - 1
    out = []
    for d, dma in enumerate(a.plan.dmas):
        if not f.suspect[d, last]:
            continue
        run = int(f.run[d, last])
        out.append(
            schemas.SuspicionOut(
                dma=dma.code,
                zone=dma.zone,
                since=a.span.nights[last - run + 1],
                nights=run,
                excess=round(float(f.unexplained[d, last] - f.baseline[d, last]), 3),
                threshold=round(float(f.threshold[d, last]), 3),
                lat=dma.lat,
                lon=dma.lon,
            )
        )
    return sorted(out, key=lambda s: -s.excess)


def suspicions(
    session: Session, principal: Principal, store: TelemetryStore, now: datetime | None = None
) -> list[schemas.SuspicionOut]:
    """The DMAs whose latest night continues a run of k or more exceedances."""
    _operate(principal)
    return _suspicions(_analysis(session, principal, store, now))


def evaluate(
    session: Session, principal: Principal, store: TelemetryStore, now: datetime | None = None
) -> list[schemas.SuspicionOut]:
    """Judge the latest night of every DMA: announce each suspected leak
    (`safety.water_leak_suspected`) and raise its alarm; clear the alarms of the others."""
    _operate(principal)
    a = _analysis(session, principal, store, now)
    found = _suspicions(a)
    at = now or utcnow()
    for s in found:
        raise_event(session, "safety.water_leak_suspected", s.model_dump(mode="json"))
        raise_leak(session, s, at)
    suspected = {s.dma for s in found}
    for dma in a.plan.dmas:
        if dma.code not in suspected:
            clear_leak(session, dma.code, at)
    return found


def night_profile(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    company_id: int,
    now: datetime | None = None,
) -> schemas.NightProfileOut:
    """A factory's own 02-04 h use per night and its profile (median, MAD of the last 14
    nights): the control centre reads any, a company admin only its own."""
    if not principal.has(Scope.safety_operate):
        if principal.company_id != company_id:
            raise NotFound(f"company {company_id} not found")
        if Role.company_admin not in principal.roles:
            raise PermissionDenied("night profiles are for the company's admins")
    plan = load_plan(session)
    row = (
        None
        if plan is None
        else next((i for i, f in enumerate(plan.factories) if f.company_id == company_id), None)
    )
    if plan is None or row is None:
        return schemas.NightProfileOut(
            company_id=company_id, dma=None, tag_id=None, median=None, mad=None, nights=[]
        )
    m = meters(session, principal, plan)
    span = night_span(now or utcnow(), NIGHTS)
    tag = m.ami.get(company_id)
    values = hourly(session, principal, store, [tag if tag else -1], span.start, span.count)
    nights = nightflow.night_means(values, span.hour, span.night, NIGHTS)[0]
    recent = nights[-14:]
    median = float(np.nanmedian(recent)) if np.isfinite(recent).any() else float("nan")
    mad = float(np.nanmedian(np.abs(recent - median))) if np.isfinite(median) else float("nan")
    return schemas.NightProfileOut(
        company_id=company_id,
        dma=plan.dmas[int(plan.factory_dma()[row])].code,
        tag_id=tag,
        median=number(median),
        mad=number(mad),
        nights=[
            schemas.ProfileNight(night=n, use=number(v))
            for n, v in zip(span.nights, nights, strict=True)
        ],
    )


def what_if(
    session: Session, principal: Principal, body: schemas.WhatIfIn, now: datetime | None = None
) -> schemas.WhatIfOut:
    """Break or close a pipe, or open a leak at a node, at one hour's demand (PDD), and list
    the factories whose pressure falls below the service threshold, by drop. Slow (~1 s):
    the route runs it in a worker thread."""
    _operate(principal)
    plan = _plan(session)
    if body.pipe is not None and body.pipe not in {p.id for p in plan.pipes}:
        raise ValidationFailed.one("pipe", "no such pipe")
    nodes = {n.id for n in plan.nodes if n.kind != "reservoir"}
    if body.node is not None and body.node not in nodes:
        raise ValidationFailed.one("node", "no such junction")
    local = (now or utcnow()).astimezone(KST)
    hour = local.hour if body.hour is None else body.hour
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    # The typical weekday draw at that hour (seeded), so the answer does not jitter.
    weekday = at - timedelta(days=(at.weekday() - 2) % 7)  # the same hour on a Wednesday
    load = demand(plan.factories, hours_from(weekday, 1), seed=7)
    impacts = simulate_what_if(
        plan, load, pipe=body.pipe, node=body.node, mode=body.mode, leak_area_cm2=body.leak_area_cm2
    )
    dma_of = plan.factory_dma()
    rows = sorted(
        (
            schemas.ImpactOut(
                company_id=plan.factories[i.factory].company_id,
                name=plan.factories[i.factory].name,
                dma=plan.dmas[int(dma_of[i.factory])].code,
                before_m=round(i.before_m, 2),
                after_m=round(i.after_m, 2),
                drop_m=round(i.before_m - i.after_m, 2),
            )
            for i in impacts
        ),
        key=lambda r: -r.drop_m,
    )
    return schemas.WhatIfOut(
        target=body.pipe or body.node or "",
        mode=body.mode if body.pipe else "leak",
        hour=hour,
        threshold_m=body.threshold_m,
        affected=[r for r in rows if r.after_m < body.threshold_m],
        lowest=rows[:10],
    )


def panel(session: Session, principal: Principal, store: TelemetryStore) -> dict[str, Any]:
    """The control-centre water panel: per DMA the latest night's unexplained flow against
    its baseline and threshold, and the open leak suspicions (PanelOut as JSON)."""
    _operate(principal)
    plan = load_plan(session)
    if plan is None:
        return schemas.PanelOut(dmas=[], suspicions=[]).model_dump(mode="json")
    a = analyse(session, principal, store, plan, meters(session, principal, plan), utcnow(), NIGHTS)
    last = len(a.span.nights) - 1
    f = a.flow
    dmas = [
        schemas.PanelDma(
            code=d.code,
            zone=d.zone,
            night=a.span.nights[last],
            unexplained=number(f.unexplained[i, last]),
            baseline=number(f.baseline[i, last]),
            threshold=number(f.threshold[i, last]),
            suspect=bool(f.suspect[i, last]),
        )
        for i, d in enumerate(plan.dmas)
    ]
    return schemas.PanelOut(dmas=dmas, suspicions=_suspicions(a)).model_dump(mode="json")
