"""The test world plus six factories, two in each zone, so the network has four DMAs; and the
water history with a leak, written through the demo seeder into a real telemetry store."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from conftest import World, square
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.registry.demo_data import make_brn
from sandan.safety.water.demo import WaterDemo, seed_water
from sandan.telemetry.store import TelemetryStore

NOW = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)  # 10:30 in Gumi, after the night of the 20th


def add_factories(ctx: Context, world: World) -> dict[str, int]:
    """Two more 24-h-ish factories in Z1 and Z2, two in Z3 and Z4; returns name -> id."""
    system = Principal.system("test")
    rng = random.Random(11)
    out: dict[str, int] = {}
    with ctx.db.unit(system) as s:
        for z, zone in enumerate(("Z1", "Z2", "Z3", "Z3", "Z4", "Z4")):
            i = ("Z1", "Z2", "Z3", "Z4").index(zone)
            lon, lat = 128.305 + i * 0.05 + 0.01 * (z % 2), 36.07 + 0.004 * z
            company = service.create_company(
                s,
                system,
                schemas.CompanyIn(
                    brn=make_brn(rng),
                    name=f"공장{z}",
                    ksic="20110",
                    zone_id=world.zones[zone],
                    employees=120,
                    footprint=square(lon, lat),
                ),
            )
            service.create_site(
                s, system, schemas.SiteIn(company_id=company.id, name="plant", lat=lat, lon=lon)
            )
            out[f"F{z}"] = company.id
    return out


def seed(ctx: Context, store: TelemetryStore, leak_cm2: float | None = 1.0) -> WaterDemo:
    with ctx.db.unit(Principal.system("test")) as s:
        demo = seed_water(s, store, now=NOW, nights=18, leak_cm2=leak_cm2)
    assert demo is not None
    return demo
