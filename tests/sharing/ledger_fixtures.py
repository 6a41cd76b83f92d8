"""Helpers of the ledger and statement tests: agreements built straight from the models (the
negotiation that would sign them is not what these tests are about), metered usage, the
principals of the two-company world, and a scratch session that is always rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import PEOPLE, VALID_BRNS, World
from sandan.core.context import Context
from sandan.core.db import PRINCIPAL_KEY
from sandan.core.identity.principal import Principal
from sandan.sharing.models import Agreement, LedgerEntry, Negotiation, Offer, Usage

SYSTEM = Principal.system("test")
KST = ZoneInfo("Asia/Seoul")
REMOTE = "urn:sandan:ULSAN:6098112345"


def kst(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment in Korean time, as the billing months are."""
    return datetime(year, month, day, hour, minute, tzinfo=KST)


def participant(key: str) -> str:
    return f"urn:sandan:GUMI:{VALID_BRNS[key]}"


def principal(world: World, who: str) -> Principal:
    """The principal of one of the world's people (see conftest.PEOPLE)."""
    role, company_key = PEOPLE[who]
    company_id = world.companies[company_key] if company_key else None
    return Principal.for_user(world.users[who], who, company_id, frozenset({role}))


def make_agreement(
    s: Session,
    world: World,
    price_model: str,
    price_krw: int,
    signed_at: datetime,
    *,
    parties: tuple[str, str | None] = ("A", "B"),
    remote_consumer: str = REMOTE,
    expires_at: datetime | None = None,
    terminated_at: datetime | None = None,
) -> Agreement:
    """A signed agreement between (provider, consumer) of the world; a consumer None is the
    remote participant `remote_consumer`."""
    provider, consumer = parties
    offer = Offer(
        company_id=world.companies[provider],
        kind="product",
        title="Daily OEE",
        selection={"product": "daily_oee"},
        access_policy={},
        contract_policy={},
        price_model=price_model,
        price_krw=price_krw,
    )
    s.add(offer)
    s.flush()
    # what the negotiation and the agreement both record about who and why
    common = {
        "offer_id": offer.id,
        "provider_company_id": world.companies[provider],
        "consumer_company_id": None if consumer is None else world.companies[consumer],
        "provider_participant": participant(provider),
        "consumer_participant": remote_consumer if consumer is None else participant(consumer),
        "purpose": "quality",
        "policy": {},
    }
    negotiation = Negotiation(state="finalized", **common)
    s.add(negotiation)
    s.flush()
    agreement = Agreement(
        uid=f"urn:uuid:{uuid.uuid4()}",
        negotiation_id=negotiation.id,
        document={},
        digest="0" * 64,
        provider_signature={},
        consumer_signature={},
        price_model=price_model,
        price_krw=price_krw,
        status="terminated" if terminated_at else "active",
        signed_at=signed_at,
        expires_at=expires_at,
        terminated_at=terminated_at,
        **common,
    )
    s.add(agreement)
    s.flush()
    return agreement


def trio(s: Session, world: World) -> list[Agreement]:
    """Three agreements in force all of 2026, A to B, B to A and A to the remote participant,
    for random charges to be posted under."""
    return [
        make_agreement(s, world, "monthly", 1, kst(2026, 1, 1), parties=parties)
        for parties in (("A", "B"), ("B", "A"), ("A", None))
    ]


def add_usage(
    s: Session, agreement: Agreement, rows: int, at: datetime, *, allowed: bool = True
) -> None:
    """One metered access under the agreement."""
    s.add(
        Usage(
            agreement_id=agreement.id,
            provider_company_id=agreement.provider_company_id,
            consumer_company_id=agreement.consumer_company_id,
            kind="pull",
            allowed=allowed,
            rows=rows,
            actor="test",
            at=at,
        )
    )
    s.flush()


def entries(s: Session, transaction_id: int) -> dict[str, tuple[int | None, int, int]]:
    """A transaction's entries: account -> (company id, debit, credit)."""
    rows = s.execute(
        select(
            LedgerEntry.account,
            LedgerEntry.company_id,
            LedgerEntry.debit_krw,
            LedgerEntry.credit_krw,
        ).where(LedgerEntry.transaction_id == transaction_id)
    )
    return {account: (company_id, debit, credit) for account, company_id, debit, credit in rows}


def expected_fee(amount: int, rate: float) -> int:
    """The fee worked out independently of the ledger: exact fractions, half up."""
    exact = Fraction(amount) * Fraction(repr(rate))
    return int(exact + Fraction(1, 2))  # int() floors a non-negative fraction


@contextmanager
def scratch(ctx: Context) -> Iterator[Session]:
    """A session acting as the system whose writes are always rolled back, so each hypothesis
    example starts from the same world."""
    s = ctx.db.factory()
    s.info[PRINCIPAL_KEY] = SYSTEM
    try:
        yield s
    finally:
        s.rollback()
        s.close()
