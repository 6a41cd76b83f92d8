"""Putaway and moves: where received goods should go, and the checks before they go there.

Rules, in order: the item's fixed bin; the owner's dedicated zones when it has any (never
another tenant's zone); a bin of the item's storage category; a bin holding no other owner's
goods; then the closest such bin with room (walking order from the docks). Room is counted
in volume, weight and pallets, and a quantity that fits nowhere whole is split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.logistics.errors import OverCapacity
from sandan.logistics.models import Bin, Item, Quant, WarehouseZone
from sandan.logistics.models.items import volume_m3
from sandan.logistics.schemas import StockLeg, Suggestion
from sandan.logistics.service.access import ensure_operator, table, write_lock
from sandan.logistics.service.ledger import Leg, post

_QUANTS, _ITEMS, _BINS = table(Quant), table(Item), table(Bin)
_LOADS = (
    select(
        _QUANTS.c.bin_id,
        _QUANTS.c.item_id,
        _QUANTS.c.owner_company_id,
        _QUANTS.c.on_hand,
        _ITEMS.c.length_mm,
        _ITEMS.c.width_mm,
        _ITEMS.c.height_mm,
        _ITEMS.c.weight_kg,
        _ITEMS.c.units_per_pallet,
    )
    .select_from(
        _QUANTS.join(_ITEMS, _ITEMS.c.id == _QUANTS.c.item_id).join(
            _BINS, _BINS.c.id == _QUANTS.c.bin_id
        )
    )
    .where(_QUANTS.c.on_hand > 0)
)
_BIN_LOAD = _LOADS.where(
    _BINS.c.warehouse_id == bindparam("warehouse_id"), _QUANTS.c.bin_id == bindparam("bin_id")
)
_SOURCE = aliased(Bin)
_TARGET = (
    select(
        Bin,
        WarehouseZone,
        Item,
        select(_SOURCE.warehouse_id).where(_SOURCE.id == bindparam("from_bin")).scalar_subquery(),
    )
    .join(WarehouseZone, WarehouseZone.id == Bin.zone_id)
    .outerjoin(Item, Item.id == bindparam("item"))
    .where(Bin.id == bindparam("to_bin"))
    .with_for_update(of=Bin, key_share=True)
)


@dataclass
class Load:
    """What a bin holds: volume, weight, and units per item (pallets count per item)."""

    volume: float = 0.0
    weight: float = 0.0
    units: dict[int, int] | None = None
    owners: set[int] | None = None

    def pallets(self, per_pallet: dict[int, int]) -> int:
        return sum(math.ceil(q / per_pallet[i]) for i, q in (self.units or {}).items() if q > 0)


def loads(
    session: Session, warehouse_id: int, bin_id: int | None = None
) -> tuple[dict[int, Load], dict[int, int]]:
    """Every bin's load (or one bin's) in one query, and units per pallet of the items."""
    rows = (
        session.execute(_LOADS.where(_BINS.c.warehouse_id == warehouse_id))
        if bin_id is None
        else session.execute(_BIN_LOAD, {"warehouse_id": warehouse_id, "bin_id": bin_id})
    )
    out: dict[int, Load] = {}
    per_pallet: dict[int, int] = {}
    for bin_id, item_id, owner, qty, length, width, height, weight, units_per_pallet in rows:
        load = out.setdefault(bin_id, Load(units={}, owners=set()))
        load.volume += qty * volume_m3(length, width, height)
        load.weight += qty * weight
        assert load.units is not None and load.owners is not None
        load.units[item_id] = load.units.get(item_id, 0) + qty
        load.owners.add(owner)
        per_pallet[item_id] = units_per_pallet
    return out, per_pallet


def room_for(bin_: Bin, load: Load, item: Item, per_pallet: dict[int, int]) -> int:
    """How many more units of the item fit in the bin (a large number: no limit)."""
    fits = 10**9
    if bin_.max_volume_m3 > 0 and item.volume_m3 > 0:
        fits = min(fits, int((bin_.max_volume_m3 - load.volume) / item.volume_m3 + 1e-9))
    if bin_.max_weight_kg > 0 and item.weight_kg > 0:
        fits = min(fits, int((bin_.max_weight_kg - load.weight) / item.weight_kg + 1e-9))
    if bin_.max_pallets > 0:
        per = {**per_pallet, item.id: item.units_per_pallet}
        have = (load.units or {}).get(item.id, 0)
        others = load.pallets(per) - math.ceil(have / item.units_per_pallet)
        fits = min(fits, (bin_.max_pallets - others) * item.units_per_pallet - have)
    return max(0, fits)


def refusal(bin_: Bin, zone: WarehouseZone, load: Load, item: Item, owner: int) -> str | None:
    """Why the bin may not hold this owner's item at all (before counting room), or None."""
    if bin_.kind != "storage":
        return f"bin {bin_.code} is a {bin_.kind} bin"
    if bin_.category != item.category:
        return f"bin {bin_.code} is for {bin_.category} goods, item {item.sku} is {item.category}"
    if zone.owner_company_id is not None and zone.owner_company_id != owner:
        return f"zone {zone.code} is dedicated to another tenant"
    if load.owners and load.owners - {owner}:
        return f"bin {bin_.code} holds another tenant's goods"
    if bin_.fixed_item_id is not None and bin_.fixed_item_id != item.id:
        return f"bin {bin_.code} is the fixed bin of another item"
    return None


def suggest(session: Session, principal: Principal, warehouse_id: int) -> list[Suggestion]:
    """Where everything waiting in the receiving bins should go."""
    ensure_operator(principal, "plan putaway")
    waiting = session.execute(
        select(Quant, Item)
        .join(Item, Item.id == Quant.item_id)
        .join(Bin, Bin.id == Quant.bin_id)
        .where(
            Bin.warehouse_id == warehouse_id,
            Bin.kind == "receiving",
            Quant.on_hand > Quant.reserved,
        )
        .order_by(Quant.id)
    ).all()
    load, per_pallet = loads(session, warehouse_id)
    places = [
        (b, z)
        for b, z in session.execute(
            select(Bin, WarehouseZone)
            .join(WarehouseZone, WarehouseZone.id == Bin.zone_id)
            .where(Bin.warehouse_id == warehouse_id, Bin.kind == "storage")
            .order_by(WarehouseZone.sequence, Bin.aisle, Bin.rack, Bin.level, Bin.id)
        )
    ]
    out: list[Suggestion] = []
    for quant, item in waiting:
        per_pallet[item.id] = item.units_per_pallet
        left = quant.on_hand - quant.reserved
        own_zone = any(z.owner_company_id == quant.owner_company_id for _, z in places)
        for bin_, zone in _ranked(places, item, quant.owner_company_id, own_zone):
            here = load.setdefault(bin_.id, Load(units={}, owners=set()))
            if left == 0 or refusal(bin_, zone, here, item, quant.owner_company_id):
                continue
            qty = min(left, room_for(bin_, here, item, per_pallet))
            if qty <= 0:
                continue
            rule = _rule(bin_, zone, item, quant.owner_company_id)
            out.append(_suggestion(quant, bin_, qty, rule))
            _add(here, item, quant.owner_company_id, qty)
            left -= qty
        if left:
            out.append(_suggestion(quant, None, left, "no bin with room"))
    return out


def _ranked(
    pairs: list[tuple[Bin, WarehouseZone]], item: Item, owner: int, own_zone: bool
) -> list[tuple[Bin, WarehouseZone]]:
    fixed = [p for p in pairs if p[0].fixed_item_id == item.id]
    rest = [
        p
        for p in pairs
        if p[0].fixed_item_id != item.id and (not own_zone or p[1].owner_company_id == owner)
    ]
    return fixed + rest


def _rule(bin_: Bin, zone: WarehouseZone, item: Item, owner: int) -> str:
    if bin_.fixed_item_id == item.id:
        return "fixed bin"
    if zone.owner_company_id == owner:
        return "owner zone"
    return "closest bin with room"


def _suggestion(quant: Quant, bin_: Bin | None, qty: int, rule: str) -> Suggestion:
    return Suggestion(
        item_id=quant.item_id,
        lot_id=quant.lot_id,
        owner_company_id=quant.owner_company_id,
        from_bin_id=quant.bin_id,
        to_bin_id=bin_.id if bin_ else None,
        to_bin_code=bin_.code if bin_ else None,
        qty=qty,
        rule=rule,
    )


def _add(load: Load, item: Item, owner: int, qty: int) -> None:
    load.volume += qty * item.volume_m3
    load.weight += qty * item.weight_kg
    assert load.units is not None and load.owners is not None
    load.units[item.id] = load.units.get(item.id, 0) + qty
    load.owners.add(owner)


def move(session: Session, principal: Principal, body: StockLeg, kind: str = "putaway") -> int:
    """Confirm a putaway (or a move): the target must accept the goods and have room."""
    ensure_operator(principal, "move stock")
    write_lock(session)
    # The target bin's row lock makes check-then-put atomic: two clerks filling the last
    # place of one bin queue here instead of both passing the capacity check. Its zone, the
    # item and the source bin's warehouse come in the same query.
    row = session.execute(
        _TARGET, {"to_bin": body.to_bin_id, "from_bin": body.from_bin_id, "item": body.item_id}
    ).first()
    if row is None:
        if session.scalar(select(Bin.id).where(Bin.id == body.from_bin_id)) is None:
            raise ValidationFailed.one("from_bin_id", "no such bin")
        raise ValidationFailed.one("to_bin_id", "no such bin in this warehouse")
    target, zone, item, from_warehouse = row
    if from_warehouse is None:
        raise ValidationFailed.one("from_bin_id", "no such bin")
    if target.warehouse_id != from_warehouse:
        raise ValidationFailed.one("to_bin_id", "no such bin in this warehouse")
    if item is None or item.owner_company_id != body.owner_company_id:
        raise ValidationFailed.one("item_id", "no such item of this owner")
    if target.kind == "storage" and target.id != body.from_bin_id:
        load, per_pallet = loads(session, target.warehouse_id, target.id)
        here = load.get(target.id, Load(units={}, owners=set()))
        why = refusal(target, zone, here, item, body.owner_company_id)
        if why:
            raise OverCapacity(why)
        room = room_for(target, here, item, per_pallet)
        if body.qty > room:
            raise OverCapacity(f"bin {target.code} has room for {room} of {item.sku}", room=room)
    leg = Leg(
        item.id, body.lot_id, body.owner_company_id, body.from_bin_id, target.id, body.qty, kind
    )
    return post(session, principal, [leg])[0]
