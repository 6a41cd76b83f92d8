"""Inbound: a tenant's advance shipping notice, then receiving at the dock against it or blind.

Received good units go into the warehouse's receiving bin through the ledger (`receive`);
damaged units are recorded on the line and refused at the dock (they never enter stock).
Each ASN line shows what came over or short of what was announced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.logistics.errors import WrongState
from sandan.logistics.models import Appointment, Asn, AsnLine, ReceiptLine
from sandan.logistics.schemas import (
    AsnIn,
    AsnLineOut,
    AsnOut,
    ReceiptLineOut,
    ReceiptOut,
    ReceiveIn,
)
from sandan.logistics.service.access import ensure_operator, get_owned, owned, owner_for, table
from sandan.logistics.service.items import item_and_lot, item_of, lot_code, lot_for
from sandan.logistics.service.layout import staging_bin_id, warehouse
from sandan.logistics.service.ledger import Leg, post
from sandan.logistics.timezone import local_day

_RECEIPTS = table(ReceiptLine)
_RECEIPT = insert(_RECEIPTS).returning(_RECEIPTS.c.id, sort_by_parameter_order=True)


def create_asn(session: Session, principal: Principal, body: AsnIn) -> Asn:
    """Announce a delivery; every line names one of the owner's items."""
    owner = owner_for(principal, body.owner_company_id)
    warehouse(session, body.warehouse_id)
    for i, line in enumerate(body.lines):
        item_of(session, line.item_id, owner, f"lines.{i}.item_id")
    asn = Asn(
        owner_company_id=owner,
        warehouse_id=body.warehouse_id,
        ref=body.ref,
        supplier=body.supplier,
        expected_at=body.expected_at,
    )
    session.add(asn)
    session.flush()
    session.add_all(AsnLine(asn_id=asn.id, **line.model_dump()) for line in body.lines)
    session.flush()
    return asn


def list_asns(session: Session, principal: Principal, status: str | None = None) -> Sequence[Asn]:
    stmt = owned(select(Asn), principal, Asn.owner_company_id)
    if status is not None:
        stmt = stmt.where(Asn.status == status)
    return session.scalars(stmt.order_by(Asn.expected_at, Asn.id)).all()


def asn_out(session: Session, asn: Asn) -> AsnOut:
    """The ASN with each line's over and short quantities."""
    lines = session.scalars(select(AsnLine).where(AsnLine.asn_id == asn.id).order_by(AsnLine.id))
    out = []
    for line in lines:
        arrived = line.qty_received + line.qty_damaged
        row = AsnLineOut.model_validate(line)
        row.qty_over = max(0, arrived - line.qty_expected)
        row.qty_short = max(0, line.qty_expected - arrived)
        out.append(row)
    return AsnOut.model_validate(asn).model_copy(update={"lines": out})


def get_asn(session: Session, principal: Principal, asn_id: int) -> AsnOut:
    return asn_out(session, get_owned(session, principal, Asn, asn_id))


def receive(session: Session, principal: Principal, body: ReceiveIn) -> ReceiptOut:
    """Count goods in at the dock; good units enter the receiving bin through the ledger."""
    ensure_operator(principal, "receive goods")
    dock_bin = staging_bin_id(session, body.warehouse_id, "receiving")
    asn: Asn | None = None
    if body.asn_id is not None:
        asn = session.get(Asn, body.asn_id)
        if asn is None or asn.warehouse_id != body.warehouse_id:
            raise ValidationFailed.one("asn_id", "no such ASN for this warehouse")
        if asn.status != "open":
            raise WrongState(f"ASN {asn.ref} was already received")
        owner = asn.owner_company_id
    elif body.owner_company_id is None:
        raise ValidationFailed.one("owner_company_id", "a blind receipt names the owner")
    else:
        owner = body.owner_company_id
    if body.appointment_id is not None:
        appt = session.get(Appointment, body.appointment_id)
        if appt is None or appt.owner_company_id != owner:
            raise ValidationFailed.one("appointment_id", "no such appointment of this owner")
    now = utcnow()
    day = local_day(now)
    legs: list[Leg] = []
    receipts: list[dict[str, Any]] = []
    for i, line in enumerate(body.lines):
        asn_line, item_id, field = _line_item(session, asn, line.asn_line_id, line.item_id, i)
        code = line.lot_code or (asn_line.lot_code if asn_line else "")
        item, known = item_and_lot(session, item_id, owner, field, lot_code(code, day))
        if item.tracking == "serial" and line.qty_good > 1:
            raise ValidationFailed.one(f"lines.{i}.qty_good", "a serial number is one unit")
        expiry = line.expiry or (asn_line.expiry if asn_line else None)
        lot_id = lot_for(session, item, code, expiry, day, known)
        if asn_line is not None:
            asn_line.qty_received += line.qty_good
            asn_line.qty_damaged += line.qty_damaged
        receipts.append(
            {
                "owner_company_id": owner,
                "warehouse_id": body.warehouse_id,
                "asn_line_id": asn_line.id if asn_line else None,
                "appointment_id": body.appointment_id,
                "item_id": item.id,
                "lot_id": lot_id,
                "qty_good": line.qty_good,
                "qty_damaged": line.qty_damaged,
                "received_at": now,
                "by": principal.actor[:60],
            }
        )
        if line.qty_good:
            ref = f"ASN {asn.ref}" if asn else "blind receipt"
            legs.append(Leg(item.id, lot_id, owner, None, dock_bin, line.qty_good, "receive", ref))
    if asn is not None:
        asn.status = "received"
    ids = session.execute(_RECEIPT, receipts).scalars().all() if receipts else []
    if legs:
        post(session, principal, legs)
    return ReceiptOut(
        lines=[
            ReceiptLineOut.model_validate({**r, "id": i})
            for r, i in zip(receipts, ids, strict=True)
        ],
        asn=asn_out(session, asn) if asn else None,
    )


def _line_item(
    session: Session,
    asn: Asn | None,
    asn_line_id: int | None,
    item_id: int | None,
    i: int,
) -> tuple[AsnLine | None, int, str]:
    """The ASN line (if any), the item id and the field that names it."""
    if asn is not None:
        if asn_line_id is None:
            if item_id is None:
                raise ValidationFailed.one(f"lines.{i}.asn_line_id", "name the ASN line or item")
            return None, item_id, f"lines.{i}.item_id"  # unannounced
        line = session.get(AsnLine, asn_line_id)
        if line is None or line.asn_id != asn.id:
            raise ValidationFailed.one(f"lines.{i}.asn_line_id", f"not a line of ASN {asn.ref}")
        return line, line.item_id, f"lines.{i}.asn_line_id"
    if item_id is None:
        raise ValidationFailed.one(f"lines.{i}.item_id", "a blind receipt names the item")
    return None, item_id, f"lines.{i}.item_id"
