"""A tenant's items and lots; the GTIN's check digit is verified in the schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Item, Lot
from sandan.logistics.schemas import ItemIn
from sandan.logistics.service.access import get_owned, owned, owner_for, table


def create_item(session: Session, principal: Principal, body: ItemIn) -> Item:
    """A new SKU of the tenant (or, for the operator, of the named tenant)."""
    owner = owner_for(principal, body.owner_company_id)
    dup = select(Item.id).where(Item.owner_company_id == owner, Item.sku == body.sku)
    if session.scalar(dup):
        raise Conflict(f"SKU {body.sku} exists")
    row = Item(**{**body.model_dump(), "owner_company_id": owner})
    session.add(row)
    session.flush()
    return row


def list_items(
    session: Session, principal: Principal, owner_id: int | None = None
) -> Sequence[Item]:
    stmt = owned(select(Item), principal, Item.owner_company_id)
    if owner_id is not None:
        stmt = stmt.where(Item.owner_company_id == owner_id)
    return session.scalars(stmt.order_by(Item.owner_company_id, Item.sku)).all()


def get_item(session: Session, principal: Principal, item_id: int) -> Item:
    return get_owned(session, principal, Item, item_id)


class ItemRef(NamedTuple):
    """What receiving and ordering need of an item, read without loading the entity."""

    id: int
    owner_company_id: int
    sku: str
    tracking: str


class LotRef(NamedTuple):
    id: int
    expiry: date | None


_ITEMS, _LOTS = table(Item), table(Lot)
_I, _L = _ITEMS.c, _LOTS.c
_ITEM_COLUMNS = (_I.id, _I.owner_company_id, _I.sku, _I.tracking)
_ITEM = select(*_ITEM_COLUMNS).where(_I.id == bindparam("item_id"))
_ITEM_LOT = (
    select(*_ITEM_COLUMNS, _L.id, _L.expiry)
    .select_from(_ITEMS.outerjoin(_LOTS, and_(_L.item_id == _I.id, _L.code == bindparam("code"))))
    .where(_I.id == bindparam("item_id"))
)
_LOT = select(_L.id, _L.expiry).where(
    _L.item_id == bindparam("item_id"), _L.code == bindparam("code")
)


def owned_item(row: Any, item_id: int, owner_id: int, field: str) -> ItemRef:
    """The item of a row (id, owner, sku, tracking) of this owner, else `item_of`'s 422."""
    if row is None or row[1] != owner_id:
        raise ValidationFailed.one(field, f"no item {item_id} of owner {owner_id}")
    return ItemRef(row[0], row[1], row[2], row[3])


def item_of(session: Session, item_id: int, owner_id: int, field: str) -> ItemRef:
    """The owner's item, or a 422 naming the field (another owner's item looks missing)."""
    row = session.execute(_ITEM, {"item_id": item_id}).first()
    return owned_item(row, item_id, owner_id, field)


def lot_code(code: str, day: date) -> str:
    """A receipt's lot code: the given one, else (untracked items) the day's receipt lot."""
    return code or f"@{day.isoformat()}"


def item_and_lot(
    session: Session, item_id: int, owner_id: int, field: str, code: str
) -> tuple[ItemRef, LotRef | None]:
    """`item_of` and the item's lot of this code (None: not yet made), in one query."""
    row = session.execute(_ITEM_LOT, {"item_id": item_id, "code": code}).first()
    item = owned_item(row, item_id, owner_id, field)
    assert row is not None
    return item, None if row[4] is None else LotRef(row[4], row[5])


def lot_for(
    session: Session, item: ItemRef, code: str, expiry: date | None, day: date, lot: LotRef | None
) -> int:
    """The id of the receipt's lot (`lot`: what `item_and_lot` found for `lot_code`), made
    if missing."""
    if item.tracking != "none" and not code:
        raise ValidationFailed.one("lot_code", f"item {item.sku} is tracked by {item.tracking}")
    code = lot_code(code, day)
    if lot is None:
        # Two clerks may receive the day's first units of an item at once: insert or keep.
        maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            maker(_LOTS)
            .values(
                item_id=item.id,
                owner_company_id=item.owner_company_id,
                code=code,
                expiry=expiry,
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["item_id", "code"])
        )
        return int(session.execute(_LOT, {"item_id": item.id, "code": code}).one()[0])
    if expiry is not None and lot.expiry not in (None, expiry):
        raise ValidationFailed.one("expiry", f"lot {code} expires {lot.expiry}, not {expiry}")
    return lot.id


def lots(session: Session, principal: Principal, item_id: int) -> Sequence[Lot]:
    get_item(session, principal, item_id)
    return session.scalars(select(Lot).where(Lot.item_id == item_id).order_by(Lot.id)).all()
