"""The double-entry ledger of data trading, in whole Korean won.

Every charge is one transaction whose entries balance: the consumer is debited the price, the
provider credited the price less the platform's fee, and `platform:fees` credited the fee. An
account is `company:<id>` for a company of this complex, `remote:<hash>` for a participant of
another complex (only a hash of its participant id, so the account name fits and leaks
nothing), and `platform:fees` for the complex operator.

A charge belongs to a billing period, the calendar month in Korean time (tax invoices follow
the Korean month), and (agreement, kind, period) is unique, so settling a month twice posts
nothing the second time. Services flush; the caller's unit of work commits.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.registry import service as registry
from sandan.sharing.models import Agreement, LedgerEntry, LedgerTransaction, Usage

KINDS = ("one_off", "monthly", "per_1000_rows")
PLATFORM_ACCOUNT = "platform:fees"
# Korea keeps no daylight saving time, so a month here is always a fixed UTC+9 interval.
BILLING_ZONE = ZoneInfo("Asia/Seoul")
_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


# --- accounts, periods and rounding -------------------------------------------------------------


def company_account(company_id: int) -> str:
    """The account of a company of this complex."""
    return f"company:{company_id}"


def remote_account(participant: str) -> str:
    """The account of a participant of another complex: a hash, because participant ids are
    long and the account column is short."""
    return f"remote:{hashlib.sha256(participant.encode()).hexdigest()[:16]}"


def party_account(company_id: int | None, participant: str) -> tuple[str, int | None]:
    """The account (and company id, for the indexed column) of one party of an agreement."""
    if company_id is None:
        return remote_account(participant), None
    return company_account(company_id), company_id


def period_bounds(period: str, field_name: str = "period") -> tuple[datetime, datetime]:
    """The [start, end) of a `YYYY-MM` billing month as aware UTC datetimes; a malformed
    period is the caller's input error, so it names the field."""
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if match is None:
        raise ValidationFailed.one(field_name, "must be a month as YYYY-MM, e.g. 2026-03")
    year, month = int(match[1]), int(match[2])
    if not 2000 <= year <= 2999:  # outside it is a typo, not a billing month
        raise ValidationFailed.one(field_name, "must be a month between 2000-01 and 2999-12")
    start = datetime(year, month, 1, tzinfo=BILLING_ZONE)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BILLING_ZONE)
    return as_utc(start), as_utc(end)


def period_of(at: datetime) -> str:
    """The billing month a moment falls in."""
    return as_utc(at).astimezone(BILLING_ZONE).strftime("%Y-%m")


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to a whole won, in exact integer arithmetic
    (floats would round 0.5 won the wrong way now and then)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def fee_of(amount_krw: int, fee_rate: float) -> int:
    """The platform's fee: amount × rate, half up. The rate goes through its shortest decimal
    form, so 0.05 means five hundredths exactly and not the binary float next to it."""
    numerator, denominator = Decimal(repr(fee_rate)).as_integer_ratio()
    return half_up(amount_krw * numerator, denominator)


def _check_fee_rate(fee_rate: float) -> None:
    if not isinstance(fee_rate, int | float) or not math.isfinite(fee_rate):
        raise ValidationFailed.one("fee_rate", "must be a number")
    if not 0 <= fee_rate <= 1:
        raise ValidationFailed.one("fee_rate", "must be between 0 and 1")


# --- posting ---------------------------------------------------------------------------------


def _already_charged(session: Session, agreement_id: int, kind: str, period: str) -> bool:
    stmt = select(LedgerTransaction.id).where(
        LedgerTransaction.agreement_id == agreement_id, LedgerTransaction.kind == kind
    )
    if kind != "one_off":  # a one-off is bought once, whichever month it was charged in
        stmt = stmt.where(LedgerTransaction.period == period)
    return session.scalar(stmt.limit(1)) is not None


def post_charge(
    session: Session,
    agreement: Agreement,
    kind: str,
    period: str,
    amount_krw: int,
    *,
    fee_rate: float,
    memo: str = "",
    at: datetime | None = None,
) -> LedgerTransaction | None:
    """Post one balanced charge under an agreement, or nothing (None) when the amount is zero
    or this period's charge of this kind is already posted (a one-off: in any period).

    The check runs before the insert rather than catching IntegrityError, which would abort
    the caller's whole transaction on PostgreSQL; two settlements racing on the same month
    still meet the unique constraint at commit and one of them fails as a whole."""
    if kind not in KINDS:
        raise ValidationFailed.one("kind", f"must be one of {', '.join(KINDS)}")
    period_bounds(period)
    if not isinstance(amount_krw, int) or amount_krw < 0:
        raise ValidationFailed.one("amount_krw", "must be a whole, non-negative number of won")
    _check_fee_rate(fee_rate)
    if amount_krw == 0 or _already_charged(session, agreement.id, kind, period):
        return None
    fee = fee_of(amount_krw, fee_rate)
    consumer, consumer_company = party_account(
        agreement.consumer_company_id, agreement.consumer_participant
    )
    provider, provider_company = party_account(
        agreement.provider_company_id, agreement.provider_participant
    )
    transaction = LedgerTransaction(
        agreement_id=agreement.id,
        kind=kind,
        period=period,
        memo=memo[:300],
        at=utcnow() if at is None else as_utc(at),
    )
    session.add(transaction)
    session.flush()
    lines: list[tuple[str, int | None, int, int]] = [
        (consumer, consumer_company, amount_krw, 0),
        (provider, provider_company, 0, amount_krw - fee),
        (PLATFORM_ACCOUNT, None, 0, fee),
    ]
    session.add_all(
        LedgerEntry(
            transaction_id=transaction.id,
            account=account,
            company_id=company_id,
            debit_krw=debit,
            credit_krw=credit,
        )
        for account, company_id, debit, credit in lines
        if debit or credit  # a 0% fee or a 100% fee leaves a line with nothing on it
    )
    session.flush()
    return transaction


def charge_on_signing(
    session: Session, agreement: Agreement, *, fee_rate: float, at: datetime | None = None
) -> LedgerTransaction | None:
    """What signing costs right away: a one-off price, or the first month of a subscription.
    Usage-priced and free agreements cost nothing until their usage is settled."""
    when = agreement.signed_at if at is None else at
    if agreement.price_model == "one_off":
        memo = "One-off purchase"
    elif agreement.price_model == "monthly":
        memo = f"Monthly subscription {period_of(when)}"
    else:
        return None
    return post_charge(
        session,
        agreement,
        agreement.price_model,
        period_of(when),
        agreement.price_krw,
        fee_rate=fee_rate,
        memo=memo,
        at=when,
    )


# --- settlement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementReport:
    """What settling a month posted; a re-run of a settled month reports nothing posted."""

    period: str
    transaction_ids: tuple[int, ...] = ()
    total_krw: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def posted(self) -> int:
        return len(self.transaction_ids)


def in_force_during(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Agreements in force at some moment of [start, end): signed before the end, and neither
    terminated nor expired by the start (one that ends exactly at the start ended with the
    month before)."""
    return and_(
        Agreement.signed_at < end,
        or_(Agreement.terminated_at.is_(None), Agreement.terminated_at > start),
        or_(Agreement.expires_at.is_(None), Agreement.expires_at > start),
    )


def _rows_used(start: datetime, end: datetime) -> Select[tuple[Agreement, Any]]:
    """Usage-priced agreements in force with the rows of their allowed accesses in the month,
    summed by the database."""
    used = (
        select(Usage.agreement_id, func.sum(Usage.rows).label("rows"))
        .where(Usage.allowed.is_(True), Usage.at >= start, Usage.at < end)
        .group_by(Usage.agreement_id)
        .subquery()
    )
    return (
        select(Agreement, used.c.rows)
        .join(used, used.c.agreement_id == Agreement.id)
        .where(in_force_during(start, end), Agreement.price_model == "per_1000_rows")
        .order_by(Agreement.id)
    )


def settle_month(
    session: Session, principal: Principal, period: str, *, fee_rate: float
) -> SettlementReport:
    """Post a month's subscriptions and metered usage (operator or system only); charges
    already posted for the month are skipped, so the run can safely be repeated."""
    if not principal.is_operator:
        raise PermissionDenied("only the complex operator settles a month")
    start, end = period_bounds(period)
    _check_fee_rate(fee_rate)
    posted: list[tuple[LedgerTransaction, int]] = []
    monthly = session.scalars(
        select(Agreement)
        .where(in_force_during(start, end), Agreement.price_model == "monthly")
        .order_by(Agreement.id)
    ).all()
    for agreement in monthly:
        tx = post_charge(
            session,
            agreement,
            "monthly",
            period,
            agreement.price_krw,
            fee_rate=fee_rate,
            memo=f"Monthly subscription {period}",
        )
        if tx is not None:
            posted.append((tx, agreement.price_krw))
    for agreement, rows in session.execute(_rows_used(start, end)).all():
        rows = int(rows or 0)
        amount = half_up(rows * agreement.price_krw, 1000)
        tx = post_charge(
            session,
            agreement,
            "per_1000_rows",
            period,
            amount,
            fee_rate=fee_rate,
            memo=f"{rows:,} rows at {agreement.price_krw:,} KRW per 1,000 rows",
        )
        if tx is not None:
            posted.append((tx, amount))
    by_kind = {"monthly": 0, "per_1000_rows": 0}
    for tx, amount in posted:
        by_kind[tx.kind] += amount
    return SettlementReport(
        period=period,
        transaction_ids=tuple(tx.id for tx, _ in posted),
        total_krw=sum(by_kind.values()),
        by_kind=by_kind,
    )


# --- reading ---------------------------------------------------------------------------------


def account_holder(session: Session, principal: Principal, company_id: int) -> str:
    """The company's name, if the principal may read its ledger: its own people (who can read
    the registry at all) and operators. Anyone else gets NotFound, as for a missing company,
    so the ledger does not tell which companies trade."""
    own = principal.company_id == company_id and principal.has(Scope.registry_read)
    if not (own or principal.is_operator):
        raise NotFound(f"company {company_id} not found")
    profile = registry.company_profiles(session, [company_id]).get(company_id)
    if profile is None:
        raise NotFound(f"company {company_id} not found")
    return profile.name


def _sums(session: Session, where: ColumnElement[bool]) -> tuple[int, int]:
    debits, credits = session.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.debit_krw), 0),
            func.coalesce(func.sum(LedgerEntry.credit_krw), 0),
        ).where(where)
    ).one()
    # PostgreSQL sums BIGINT as NUMERIC, which arrives as Decimal.
    return int(debits), int(credits)


def balances(session: Session, principal: Principal, company_id: int) -> dict[str, int]:
    """A company's totals over all time: debits (what it bought), credits (what it earned
    after fees) and net = credits - debits."""
    account_holder(session, principal, company_id)
    debits, credits = _sums(session, LedgerEntry.company_id == company_id)
    return {"debits": debits, "credits": credits, "net": credits - debits}


def unbalanced(session: Session) -> list[int]:
    """Ids of transactions whose debits differ from their credits; posting never makes one, so
    anything here means the ledger was written around this module."""
    stmt = (
        select(LedgerEntry.transaction_id)
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.debit_krw) != func.sum(LedgerEntry.credit_krw))
        .order_by(LedgerEntry.transaction_id)
    )
    return list(session.scalars(stmt))
