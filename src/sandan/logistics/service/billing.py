"""Monthly bills per tenant, computed from the stock history rather than from today's stock.

Storage replays the owner's ledger into end-of-day positions (Asia/Seoul days) as one
numpy matrix: days × (item, bin). A day's pallets are the sum over (item, bin) of
ceil(units / units per pallet) - a part pallet takes a whole place - and its m³ the units
times the item's volume. The month's pallet-days (or m³-days) are the sum over its days up
to today. Handling is a fee per received line and per shipped order line.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.tenancy import found
from sandan.logistics.models import Item, Movement, OrderLine, ReceiptLine, Shipment, Tariff
from sandan.logistics.schemas_out import InvoiceLine, InvoiceOut, TariffIn
from sandan.logistics.service.access import ensure_operator, owned
from sandan.logistics.timezone import local_day, local_start
from sandan.registry.service import company_profiles


def month_days(period: str) -> tuple[date, date]:
    """First and last day of a "YYYY-MM" period."""
    try:
        year, month = (int(p) for p in period.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise ValidationFailed.one("period", "a month like 2026-11") from exc
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def tariff_for(session: Session, owner_id: int) -> Tariff:
    """The owner's own rates, else the default row, else the built-in defaults."""
    rows = session.scalars(
        select(Tariff).where(
            (Tariff.owner_company_id == owner_id) | Tariff.owner_company_id.is_(None)
        )
    ).all()
    own = [t for t in rows if t.owner_company_id == owner_id]
    if own or rows:
        return (own or rows)[0]
    defaults = TariffIn()
    return Tariff(**defaults.model_dump())


def set_tariff(session: Session, principal: Principal, body: TariffIn) -> Tariff:
    """Create or change the default tariff (no owner) or one tenant's."""
    ensure_operator(principal, "set tariffs")
    row = session.scalar(
        select(Tariff).where(
            Tariff.owner_company_id.is_(None)
            if body.owner_company_id is None
            else Tariff.owner_company_id == body.owner_company_id
        )
    )
    if row is None:
        row = Tariff(**body.model_dump())
        session.add(row)
    else:
        for key, value in body.model_dump().items():
            setattr(row, key, value)
    session.flush()
    return row


def daily_positions(
    session: Session, owner_id: int, first: date, last: date
) -> tuple[np.ndarray, np.ndarray]:
    """Pallets and m³ held at the end of each day from `first` to `last` (ledger replay)."""
    days = (last - first).days + 1
    end = local_start(last + timedelta(days=1))
    rows = session.execute(
        select(
            Movement.item_id, Movement.from_bin_id, Movement.to_bin_id, Movement.qty, Movement.at
        ).where(Movement.owner_company_id == owner_id, Movement.at < end)
    ).all()
    if not rows:
        return np.zeros(days), np.zeros(days)
    items = {
        i.id: i for i in session.scalars(select(Item).where(Item.owner_company_id == owner_id))
    }
    keys: dict[tuple[int, int], int] = {}
    idx, day_of, delta = [], [], []
    for item_id, src, dst, qty, at in rows:
        d = max(0, (local_day(at) - first).days)
        for bin_id, sign in ((src, -1), (dst, 1)):
            if bin_id is not None:
                idx.append(keys.setdefault((item_id, bin_id), len(keys)))
                day_of.append(d)
                delta.append(sign * qty)
    matrix = np.zeros((days, len(keys)), dtype=np.int64)
    np.add.at(matrix, (np.asarray(day_of), np.asarray(idx)), np.asarray(delta))
    position = np.cumsum(matrix, axis=0)
    per_pallet = np.array([items[i].units_per_pallet for i, _ in keys], dtype=np.int64)
    volume = np.array([items[i].volume_m3 for i, _ in keys])
    pallets = (-(-np.maximum(position, 0) // per_pallet)).sum(axis=1)
    m3 = (np.maximum(position, 0) * volume).sum(axis=1)
    return pallets.astype(float), m3


def invoice(session: Session, principal: Principal, owner_id: int, period: str) -> InvoiceOut:
    """The owner's bill for a month: storage to date, inbound and outbound handling."""
    profiles = company_profiles(session, [owner_id])
    if owner_id not in profiles or not _may_read(principal, owner_id):
        found(None, "company")
    first, last = month_days(period)
    today = local_day(utcnow())
    if first > today:
        raise ValidationFailed.one("period", "a month that has begun")
    last = min(last, today)
    pallets, m3 = daily_positions(session, owner_id, first, last)
    tariff = tariff_for(session, owner_id)
    start, end = local_start(first), local_start(last + timedelta(days=1))
    inbound = (
        session.scalar(
            select(func.count(ReceiptLine.id)).where(
                ReceiptLine.owner_company_id == owner_id,
                ReceiptLine.received_at >= start,
                ReceiptLine.received_at < end,
            )
        )
        or 0
    )
    outbound = (
        session.scalar(
            select(func.count(OrderLine.id))
            .join(Shipment, Shipment.order_id == OrderLine.order_id)
            .where(
                Shipment.owner_company_id == owner_id,
                Shipment.status == "shipped",
                Shipment.shipped_at >= start,
                Shipment.shipped_at < end,
                OrderLine.qty_shipped > 0,
            )
        )
        or 0
    )
    if tariff.basis == "m3":
        amount = round(float(m3.sum()), 3)
        storage = InvoiceLine(
            kind="storage",
            description="storage, m³-days",
            quantity=amount,
            unit="m3-day",
            rate_krw=tariff.m3_day_krw,
            amount_krw=round(amount * tariff.m3_day_krw),
        )
    else:
        amount = float(pallets.sum())
        storage = InvoiceLine(
            kind="storage",
            description="storage, pallet-days",
            quantity=amount,
            unit="pallet-day",
            rate_krw=tariff.pallet_day_krw,
            amount_krw=round(amount * tariff.pallet_day_krw),
        )
    lines = [
        storage,
        InvoiceLine(
            kind="inbound",
            description="inbound handling, received lines",
            quantity=inbound,
            unit="line",
            rate_krw=tariff.inbound_line_krw,
            amount_krw=inbound * tariff.inbound_line_krw,
        ),
        InvoiceLine(
            kind="outbound",
            description="outbound handling, shipped lines",
            quantity=outbound,
            unit="line",
            rate_krw=tariff.outbound_line_krw,
            amount_krw=outbound * tariff.outbound_line_krw,
        ),
    ]
    return InvoiceOut(
        owner_company_id=owner_id,
        owner_name=profiles[owner_id].name,
        period=period,
        basis=tariff.basis,
        lines=lines,
        total_krw=sum(x.amount_krw for x in lines),
        daily=[
            {"day": float(i + 1), "pallets": float(p), "m3": round(float(v), 6)}
            for i, (p, v) in enumerate(zip(pallets, m3, strict=True))
        ],
    )


def tenants(session: Session, principal: Principal) -> list[int]:
    """The owners whose bills the principal may open: every tenant with items for the
    warehouse operator, its own company for a tenant."""
    stmt = owned(select(Item.owner_company_id).distinct(), principal, Item.owner_company_id)
    return sorted(int(i) for i in session.scalars(stmt))


def _may_read(principal: Principal, owner_id: int) -> bool:
    """The same rule as `readable`, for a bill that is computed rather than selected."""
    if not principal.has(Scope.registry_read):
        return False
    if principal.reads_all(Resource.warehouse):
        return True
    return owner_id in principal.readable_company_ids(Resource.warehouse)
