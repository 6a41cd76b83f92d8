"""A tenant's items and lots; the GTIN's check digit is verified in the schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Item, Lot
from sandan.logistics.schemas import ItemIn
from sandan.logistics.service.access import get_owned, owned, owner_for


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


def item_of(session: Session, item_id: int, owner_id: int, field: str) -> Item:
    """The owner's item, or a 422 naming the field (another owner's item looks missing)."""
    row = session.get(Item, item_id)
    if row is None or row.owner_company_id != owner_id:
        raise ValidationFailed.one(field, f"no item {item_id} of owner {owner_id}")
    return row


def lot_for(session: Session, item: Item, code: str, expiry: date | None, day: date) -> Lot:
    """The lot of a receipt: the given code, else (untracked items) the day's receipt lot."""
    if item.tracking != "none" and not code:
        raise ValidationFailed.one("lot_code", f"item {item.sku} is tracked by {item.tracking}")
    code = code or f"@{day.isoformat()}"
    lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == code))
    if lot is None:
        # Two clerks may receive the day's first units of an item at once: insert or keep.
        maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            maker(Lot)
            .values(
                item_id=item.id,
                owner_company_id=item.owner_company_id,
                code=code,
                expiry=expiry,
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["item_id", "code"])
        )
        lot = session.scalars(select(Lot).where(Lot.item_id == item.id, Lot.code == code)).one()
    elif expiry is not None and lot.expiry not in (None, expiry):
        raise ValidationFailed.one("expiry", f"lot {code} expires {lot.expiry}, not {expiry}")
    return lot


def lots(session: Session, principal: Principal, item_id: int) -> Sequence[Lot]:
    get_item(session, principal, item_id)
    return session.scalars(select(Lot).where(Lot.item_id == item_id).order_by(Lot.id)).all()
