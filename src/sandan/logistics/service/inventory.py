"""Stock as the owners and the floor see it, adjustments and cycle counts.

Both adjustments and counts post through the ledger. When a correction leaves fewer units
than are reserved, the newest reservations on that quant give way first, so a quant never
holds more reserved than on hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.logistics.errors import WrongState
from sandan.logistics.models import Bin, CountTask, Item, Lot, Movement, Quant, Reservation
from sandan.logistics.schemas import AdjustIn, QuantOut
from sandan.logistics.schemas_out import CountIn, CountLineIn
from sandan.logistics.service.access import ensure_operator, owned
from sandan.logistics.service.ledger import Key, Leg, lock_quants, post


def stock(
    session: Session,
    principal: Principal,
    owner_id: int | None = None,
    item_id: int | None = None,
    bin_id: int | None = None,
) -> list[QuantOut]:
    """Non-empty quants the principal may read, with SKU, lot and bin."""
    stmt = owned(
        select(Quant, Item.sku, Lot.code, Lot.expiry, Bin.code)
        .join(Item, Item.id == Quant.item_id)
        .join(Lot, Lot.id == Quant.lot_id)
        .join(Bin, Bin.id == Quant.bin_id)
        .where(Quant.on_hand > 0),
        principal,
        Quant.owner_company_id,
    )
    if owner_id is not None:
        stmt = stmt.where(Quant.owner_company_id == owner_id)
    if item_id is not None:
        stmt = stmt.where(Quant.item_id == item_id)
    if bin_id is not None:
        stmt = stmt.where(Quant.bin_id == bin_id)
    rows = session.execute(stmt.order_by(Quant.owner_company_id, Item.sku, Bin.code, Quant.id))
    return [
        QuantOut.model_validate(q).model_copy(
            update={"sku": sku, "lot_code": lot, "expiry": expiry, "bin_code": code}
        )
        for q, sku, lot, expiry, code in rows
    ]


def movements(
    session: Session, principal: Principal, owner_id: int | None = None, limit: int = 500
) -> Sequence[Movement]:
    stmt = owned(select(Movement), principal, Movement.owner_company_id)
    if owner_id is not None:
        stmt = stmt.where(Movement.owner_company_id == owner_id)
    return session.scalars(stmt.order_by(Movement.id.desc()).limit(limit)).all()


def _shrink_reservations(session: Session, quant: Quant, target_on_hand: int) -> None:
    excess = quant.reserved - target_on_hand
    if excess <= 0:
        return
    rows = session.scalars(
        select(Reservation)
        .where(Reservation.quant_id == quant.id, Reservation.qty > 0)
        .order_by(Reservation.id.desc())
    ).all()
    for r in rows:
        give = min(excess, r.qty)
        r.qty -= give
        quant.reserved -= give
        excess -= give
        if excess == 0:
            break
    session.flush()


def _correct(
    session: Session, principal: Principal, key: Key, target: int, kind: str, ref: str
) -> int | None:
    """Bring a quant to `target` units through the ledger; returns the movement id."""
    quant = lock_quants(session, [key])[key]
    delta = target - quant.on_hand
    if delta == 0:
        return None
    _shrink_reservations(session, quant, target)
    item, lot, bin_id, owner = key
    leg = (
        Leg(item, lot, owner, None, bin_id, delta, kind, ref)
        if delta > 0
        else Leg(item, lot, owner, bin_id, None, -delta, kind, ref)
    )
    return post(session, principal, [leg], locked={key: quant})[0]


def _check_key(session: Session, item_id: int, lot_id: int, owner_id: int, bin_id: int) -> Key:
    item, lot = session.get(Item, item_id), session.get(Lot, lot_id)
    if item is None or item.owner_company_id != owner_id:
        raise ValidationFailed.one("item_id", "no such item of this owner")
    if lot is None or lot.item_id != item_id:
        raise ValidationFailed.one("lot_id", "no such lot of this item")
    if session.get(Bin, bin_id) is None:
        raise ValidationFailed.one("bin_id", "no such bin")
    return (item_id, lot_id, bin_id, owner_id)


def adjust(session: Session, principal: Principal, body: AdjustIn) -> int | None:
    """Add or remove units with a reason (found, broken, sample); never below zero."""
    ensure_operator(principal, "adjust stock")
    key = _check_key(session, body.item_id, body.lot_id, body.owner_company_id, body.bin_id)
    quant = lock_quants(session, [key])[key]
    target = quant.on_hand + body.delta
    if target < 0:
        raise ValidationFailed.one("delta", f"only {quant.on_hand} on hand")
    return _correct(session, principal, key, target, "adjust", body.reason)


def create_count(session: Session, principal: Principal, body: CountIn) -> CountTask:
    """A count of some bins of one warehouse."""
    ensure_operator(principal, "count stock")
    found_bins = session.scalars(
        select(Bin.id).where(Bin.id.in_(body.bin_ids), Bin.warehouse_id == body.warehouse_id)
    ).all()
    if len(found_bins) != len(set(body.bin_ids)):
        raise ValidationFailed.one("bin_ids", "every bin must be in the warehouse")
    task = CountTask(
        warehouse_id=body.warehouse_id, bin_ids=sorted(set(body.bin_ids)), by=principal.actor[:60]
    )
    session.add(task)
    session.flush()
    return task


def count_sheet(session: Session, principal: Principal, count_id: int) -> list[QuantOut]:
    """What the system expects in the counted bins."""
    ensure_operator(principal, "count stock")
    task = found(session.get(CountTask, count_id), "count")
    return [q for b in task.bin_ids for q in stock(session, principal, bin_id=b)]


def submit_count(
    session: Session, principal: Principal, count_id: int, lines: list[CountLineIn]
) -> tuple[CountTask, int]:
    """Post the differences: a counted bin holds exactly what was counted (unlisted: zero)."""
    ensure_operator(principal, "count stock")
    task = found(session.get(CountTask, count_id), "count")
    if task.status != "open":
        raise WrongState(f"count {task.id} is {task.status}")
    counted: dict[Key, int] = {}
    for i, line in enumerate(lines):
        if line.bin_id not in task.bin_ids:
            raise ValidationFailed.one(f"lines.{i}.bin_id", "not a bin of this count")
        key = _check_key(session, line.item_id, line.lot_id, line.owner_company_id, line.bin_id)
        counted[key] = counted.get(key, 0) + line.counted
    held = session.scalars(
        select(Quant).where(Quant.bin_id.in_(task.bin_ids), Quant.on_hand > 0)
    ).all()
    for q in held:
        counted.setdefault((q.item_id, q.lot_id, q.bin_id, q.owner_company_id), 0)
    made = 0
    for key in sorted(counted):
        if _correct(session, principal, key, counted[key], "count", f"count {task.id}"):
            made += 1
    task.status, task.done_at = "done", utcnow()
    session.flush()
    return task, made
