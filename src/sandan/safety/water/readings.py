"""The water meters as registry tags and telemetry readings.

Each factory's smart meter (AMI) is a `water_flow` tag (m³/h, hourly) of its company; each
DMA's inlet meter is a `water_inflow.<DMA>` tag of the complex's industrial waterworks, a
company of its own in the registry (the utility that owns the mains), so the ordinary
permission filters decide who reads which meter. The demo writes the readings by running the
WNTR model; the analysis only ever reads what the store holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.registry import schemas as reg
from sandan.registry import service as registry
from sandan.registry.validators import brn_check_digit
from sandan.safety.water.demand import factory_of
from sandan.safety.water.network import Factory, NetworkPlan, plan_network
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import GOOD, READINGS, TelemetryStore

AMI_TAG = "water_flow"
INFLOW_PREFIX = "water_inflow."
UTILITY_BRN = "51381" + "0036" + str(brn_check_digit("513810036"))
WATER_DIVISION = "36"  # KSIC water supply: the network's owner, not one of its customers
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Meters:
    inlet: dict[str, int]  # DMA code -> tag id
    ami: dict[int, int]  # company id -> tag id


_plans: dict[tuple[Factory, ...], NetworkPlan] = {}
_plans_lock = threading.Lock()


def load_plan(session: Session, per_dma: int = 10) -> NetworkPlan | None:
    """The network of the complex's located factories (None without any), cached: the same
    factories give the same plan. Built as the platform, since the mains serve everyone;
    what a caller sees of it is filtered by the service."""
    factories = tuple(
        factory_of(c.id, c.name, c.zone, c.lat, c.lon, c.employees, c.ksic)
        for c in registry.company_locations(session, Principal.system("water"))
        if c.lat is not None and c.lon is not None and not c.ksic.startswith(WATER_DIVISION)
    )
    if not factories:
        return None
    with _plans_lock:
        plan = _plans.get(factories)
        if plan is None:
            _plans.clear()
            plan = _plans[factories] = plan_network(list(factories), per_dma=per_dma)
    return plan


def meters(session: Session, principal: Principal, plan: NetworkPlan) -> Meters:
    """The meter tags of the plan the principal may read."""
    names = [AMI_TAG] + [INFLOW_PREFIX + d.code for d in plan.dmas]
    inlet: dict[str, int] = {}
    ami: dict[int, int] = {}
    for tag_id, company_id, name in registry.tags_named(session, principal, names):
        if name == AMI_TAG:
            ami.setdefault(company_id, tag_id)
        else:
            inlet.setdefault(name.removeprefix(INFLOW_PREFIX), tag_id)
    return Meters(inlet, ami)


def _meter_tag(session: Session, principal: Principal, site_id: int, device: str, name: str) -> int:
    dev = registry.create_device(
        session, principal, reg.DeviceIn(site_id=site_id, name=device, protocol="http")
    )
    tag = registry.create_tag(
        session,
        principal,
        reg.TagIn(
            device_id=dev.id,
            name=name,
            quantity="volumetric flow",
            unit="m3/h",
            range_min=0,
            range_max=10_000,
            sampling_ms=HOUR_MS,
        ),
    )
    return tag.id


def provision(session: Session, principal: Principal, plan: NetworkPlan) -> Meters:
    """Register what is missing (operator): the waterworks company with a site and an inlet
    meter per DMA, and a smart meter at each factory's first site. Safe to repeat."""
    have = meters(session, principal, plan)
    utility = registry.company_by_brn(session, UTILITY_BRN)
    if utility is None:
        zone_ids = {z.code: z.id for z in session.scalars(registry.zones_readable(principal))}
        created = registry.create_company(
            session,
            principal,
            reg.CompanyIn(
                brn=UTILITY_BRN,
                name="구미산단 공업용수도",
                name_en="Gumi Complex Industrial Waterworks",
                ksic="36020",
                zone_id=zone_ids[plan.dmas[0].zone],
                employees=40,
            ),
        )
        utility_id = created.id
    else:
        utility_id = utility.id
    res = next(n for n in plan.nodes if n.kind == "reservoir")
    site_id: int | None = None
    for dma in plan.dmas:
        if dma.code in have.inlet:
            continue
        if site_id is None:
            site_id = registry.create_site(
                session,
                principal,
                reg.SiteIn(
                    company_id=utility_id, name="정수장·DMA 계량소", lat=res.lat, lon=res.lon
                ),
            ).id
        have.inlet[dma.code] = _meter_tag(
            session, principal, site_id, f"DMA {dma.code} inlet meter", INFLOW_PREFIX + dma.code
        )
    sites = {c.id: c.site_id for c in registry.company_locations(session, principal)}
    for f in plan.factories:
        site = sites.get(f.company_id)
        if f.company_id not in have.ami and site is not None:
            have.ami[f.company_id] = _meter_tag(
                session, principal, site, "Water meter (AMI)", AMI_TAG
            )
    return have


def write(
    store: TelemetryStore,
    plan: NetworkPlan,
    m: Meters,
    hours: np.ndarray,
    inlet: np.ndarray,
    ami: np.ndarray,
) -> int:
    """Store hourly meter values (DMAs × hours, factories × hours) as readings, one per hour
    stamped at the hour's start; returns how many were new."""
    rows = [(m.inlet.get(d.code), inlet[i]) for i, d in enumerate(plan.dmas)]
    rows += [(m.ami.get(f.company_id), ami[i]) for i, f in enumerate(plan.factories)]
    kept = [(t, v) for t, v in rows if t is not None]
    if not kept:
        return 0
    ids = np.repeat(np.array([t for t, _ in kept], dtype=np.int32), hours.size)
    values = np.concatenate([np.asarray(v, dtype=float) for _, v in kept])
    batch = pa.table(
        {
            "tag_id": pa.array(ids, pa.int32()),
            "ts": pa.array(np.tile(hours.astype("datetime64[us]"), len(kept)), pa.timestamp("us")),
            "value": pa.array(np.round(values, 4), pa.float64()),
            "quality": pa.array(np.full(ids.size, GOOD, dtype=np.uint8), pa.uint8()),
        },
        schema=READINGS,
    )
    # Straight into the store: this is a model's backfill of past hours; the ingest path
    # would score each hour for anomalies and flood the bus with shift changes as events.
    return store.append(batch)


def hourly(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    tag_ids: list[int],
    start: datetime,
    count: int,
) -> np.ndarray:
    """Hourly mean of each tag (len(tag_ids) × count) from `start`, NaN where the store has
    nothing or the principal may not read the tag; one query, scattered by numpy."""
    out = np.full((len(tag_ids), count), np.nan)
    if not tag_ids or count <= 0:
        return out
    first = int(start.timestamp()) // 3600 * 3600
    end = datetime.fromtimestamp(first + count * 3600, tz=start.tzinfo)
    table = telemetry.aggregate_rollups(
        session,
        principal,
        store,
        tag_ids,
        datetime.fromtimestamp(first, tz=start.tzinfo),
        end,
        "1h",
        "SELECT tag_id, t, avg FROM rollups",
    )
    order = np.argsort(np.array(tag_ids))
    sorted_ids = np.array(tag_ids)[order]
    tag = table.column("tag_id").to_numpy(zero_copy_only=False).astype(np.int64)
    col = (table.column("t").to_numpy(zero_copy_only=False).astype(np.int64) - first) // 3600
    val = table.column("avg").to_numpy(zero_copy_only=False).astype(float)
    row = order[np.searchsorted(sorted_ids, tag)]
    ok = (col >= 0) & (col < count)
    out[row[ok], col[ok]] = val[ok]
    return out
