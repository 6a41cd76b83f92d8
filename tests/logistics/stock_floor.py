"""A warehouse built through the services (no HTTP), for the property, concurrency and
benchmark runs: a receiving, an outbound and `storage` storage bins without limits."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics import schemas
from sandan.logistics.service import layout
from sandan.logistics.service.items import create_item

_codes = itertools.count(1)


@dataclass
class ServiceFloor:
    warehouse_id: int = 0
    receiving: int = 0
    outbound: int = 0
    storage: list[int] = field(default_factory=list)
    items: dict[int, list[int]] = field(default_factory=dict)  # owner -> item ids


def service_floor(ctx: Context, owners: list[int], storage: int = 3) -> ServiceFloor:
    system = Principal.system("test")
    floor = ServiceFloor()
    n = next(_codes)
    with ctx.db.unit(system) as s:
        w = layout.create_warehouse(
            s, system, schemas.WarehouseIn(code=f"W{n}", name="w", lat=36.1, lon=128.4)
        )
        floor.warehouse_id = w.id
        zone = layout.create_zone(s, system, w.id, schemas.ZoneIn(code="Z", sequence=1))
        for kind in ("receiving", "outbound"):
            made = layout.create_bin(
                s, system, schemas.BinIn(zone_id=zone.id, code=kind, kind=kind)
            )
            setattr(floor, kind, made.id)
        for i in range(storage):
            made = layout.create_bin(
                s, system, schemas.BinIn(zone_id=zone.id, code=f"S{i}", aisle=1, rack=i + 1)
            )
            floor.storage.append(made.id)
        for owner in owners:
            floor.items[owner] = [
                create_item(
                    s,
                    system,
                    schemas.ItemIn(owner_company_id=owner, sku=f"W{n}-{sku}", name=sku, tracking=t),
                ).id
                for sku, t in (("PLAIN", "none"), ("LOTTED", "lot"))
            ]
    return floor
