"""Monthly statements of the KRW ledger, for a company and for the platform's fee account.

A statement covers the charges that belong to one billing month (a March subscription settled
on 1 April is on the March statement): an opening balance over all earlier months, the month's
lines in the order they were posted with a running balance, and the closing balance. Balances
are credits minus debits, the same sign as `ledger.balances`' net.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc
from sandan.core.errors import PermissionDenied
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.sharing.models import Agreement, LedgerEntry, LedgerTransaction
from sandan.sharing.service.ledger import (
    BILLING_ZONE,
    PLATFORM_ACCOUNT,
    account_holder,
    company_account,
    period_bounds,
)

CSV_HEADER = (
    "date",
    "transaction",
    "agreement",
    "counterparty",
    "kind",
    "description",
    "debit_krw",
    "credit_krw",
    "balance_krw",
)
_DEFAULT_DESCRIPTION = {
    "one_off": "One-off purchase",
    "monthly": "Monthly subscription",
    "per_1000_rows": "Metered usage",
}
# A spreadsheet runs a cell starting with these as a formula; a remote participant id is
# text another complex chose, so it must not become one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class _Posting:
    """An entry of the account joined to its transaction and agreement (outer: an agreement
    may have been deleted, leaving its money on the books)."""

    debit_krw: int
    credit_krw: int
    transaction_id: int
    at: datetime
    kind: str
    memo: str
    uid: str | None
    provider_company_id: int | None
    provider_participant: str | None
    consumer_company_id: int | None
    consumer_participant: str | None


@dataclass(frozen=True)
class StatementLine:
    """One entry of the account, with the balance after it."""

    date: date
    transaction_id: int
    agreement_uid: str
    counterparty: str
    kind: str
    description: str
    debit_krw: int
    credit_krw: int
    balance_krw: int


@dataclass(frozen=True)
class Statement:
    """An account's month: opening balance, lines in posting order, closing balance."""

    account: str
    holder: str
    period: str
    opening_krw: int
    closing_krw: int
    lines: tuple[StatementLine, ...]

    @property
    def total_debit_krw(self) -> int:
        return sum(line.debit_krw for line in self.lines)

    @property
    def total_credit_krw(self) -> int:
        return sum(line.credit_krw for line in self.lines)


def statement(session: Session, principal: Principal, company_id: int, period: str) -> Statement:
    """A company's statement for a month; only its own people and operators may read it (for
    anyone else the company looks missing)."""
    holder = account_holder(session, principal, company_id)
    return _statement(
        session, company_account(company_id), holder, LedgerEntry.company_id == company_id, period
    )


def platform_statement(session: Session, principal: Principal, period: str) -> Statement:
    """The operator's fee account for a month; each line names both parties of the charge."""
    if not principal.is_operator:
        raise PermissionDenied("only the complex operator reads the platform's fee account")
    return _statement(
        session,
        PLATFORM_ACCOUNT,
        "Platform fees",
        LedgerEntry.account == PLATFORM_ACCOUNT,
        period,
    )


def _statement(
    session: Session, account: str, holder: str, where: ColumnElement[bool], period: str
) -> Statement:
    period_bounds(period)  # validates; a period is compared as text, which sorts as months
    opening = int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.credit_krw - LedgerEntry.debit_krw), 0))
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(where, LedgerTransaction.period < period)
        )
        or 0
    )
    rows = [
        _Posting(*r)
        for r in session.execute(
            select(
                LedgerEntry.debit_krw,
                LedgerEntry.credit_krw,
                LedgerTransaction.id,
                LedgerTransaction.at,
                LedgerTransaction.kind,
                LedgerTransaction.memo,
                Agreement.uid,
                Agreement.provider_company_id,
                Agreement.provider_participant,
                Agreement.consumer_company_id,
                Agreement.consumer_participant,
            )
            .select_from(LedgerEntry)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .outerjoin(Agreement, Agreement.id == LedgerTransaction.agreement_id)
            .where(where, LedgerTransaction.period == period)
            .order_by(LedgerTransaction.at, LedgerTransaction.id, LedgerEntry.id)
        )
    ]
    names = _party_names(session, rows)
    credited = [r.transaction_id for r in rows if r.credit_krw]
    fees = {} if account == PLATFORM_ACCOUNT else _fees(session, credited)
    balance = opening
    lines: list[StatementLine] = []
    for r in rows:
        balance += r.credit_krw - r.debit_krw
        lines.append(
            StatementLine(
                date=_local_date(r.at),
                transaction_id=r.transaction_id,
                agreement_uid=r.uid or "",
                counterparty=_counterparty(r, names, account),
                kind=r.kind,
                description=_description(r, fees.get(r.transaction_id, 0)),
                debit_krw=r.debit_krw,
                credit_krw=r.credit_krw,
                balance_krw=balance,
            )
        )
    return Statement(
        account=account,
        holder=holder,
        period=period,
        opening_krw=opening,
        closing_krw=balance,
        lines=tuple(lines),
    )


def _local_date(at: datetime) -> date:
    return as_utc(at).astimezone(BILLING_ZONE).date()


def _party_names(session: Session, rows: list[_Posting]) -> dict[int, str]:
    """Names of the local parties of these lines' agreements, and of no other company."""
    ids = {
        company_id
        for r in rows
        for company_id in (r.provider_company_id, r.consumer_company_id)
        if company_id is not None
    }
    return {cid: p.name for cid, p in registry.company_profiles(session, sorted(ids)).items()}


def _party(names: dict[int, str], company_id: int | None, participant: str | None) -> str:
    if company_id is not None and company_id in names:
        return names[company_id]
    return participant or ""


def _counterparty(r: _Posting, names: dict[int, str], account: str) -> str:
    """The other party of the agreement: a debit is a purchase, so the seller; a credit is a
    sale, so the buyer. The platform's lines name both, buyer first."""
    if r.uid is None:  # the agreement was deleted; the money stays, the names go with it
        return ""
    provider = _party(names, r.provider_company_id, r.provider_participant)
    consumer = _party(names, r.consumer_company_id, r.consumer_participant)
    if account == PLATFORM_ACCOUNT:
        return f"{consumer} → {provider}"
    return provider if r.debit_krw else consumer


def _fees(session: Session, transaction_ids: list[int]) -> dict[int, int]:
    """The platform fee of each transaction, so a provider sees why it got less than the
    price."""
    if not transaction_ids:
        return {}
    rows = session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.credit_krw).where(
            LedgerEntry.account == PLATFORM_ACCOUNT,
            LedgerEntry.transaction_id.in_(sorted(set(transaction_ids))),
        )
    )
    return {tx_id: int(fee) for tx_id, fee in rows}


def _description(r: _Posting, fee: int) -> str:
    text = r.memo or _DEFAULT_DESCRIPTION.get(r.kind, r.kind)
    if r.credit_krw and fee:
        text += f" (after a platform fee of {fee:,} KRW)"
    return text


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def statement_csv(statement: Statement) -> str:
    """The statement as CSV with a UTF-8 byte order mark, without which Excel reads Korean
    names as mojibake; amounts are whole won, the last row carries the month's totals and
    the closing balance."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for line in statement.lines:
        writer.writerow(
            (
                line.date.isoformat(),
                line.transaction_id,
                _text_cell(line.agreement_uid),
                _text_cell(line.counterparty),
                line.kind,
                _text_cell(line.description),
                line.debit_krw,
                line.credit_krw,
                line.balance_krw,
            )
        )
    writer.writerow(
        (
            "closing",
            "",
            "",
            "",
            "",
            f"closing balance {statement.period}",
            statement.total_debit_krw,
            statement.total_credit_krw,
            statement.closing_krw,
        )
    )
    return "\ufeff" + out.getvalue()
