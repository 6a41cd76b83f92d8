"""The KRW ledger: charges worked out by hand, settlement of a month (once), which agreements a
month charges, who may settle and read, and the double-entry invariants under random charges."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_fixtures import (
    REMOTE,
    SYSTEM,
    add_usage,
    entries,
    expected_fee,
    kst,
    make_agreement,
    principal,
    scratch,
    trio,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import World
from sandan.core.context import Context
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.sharing.models import LedgerEntry, LedgerTransaction
from sandan.sharing.service import ledger

FEE = 0.05


def _count(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(LedgerTransaction)) or 0)


# --- charges worked out by hand ----------------------------------------------------------------


def test_one_off_at_signing_is_the_hand_calculated_entries(ctx: Context, world: World) -> None:
    """120,000 KRW at a 5% fee: the buyer B pays 120,000, the seller A gets 114,000 and the
    platform 6,000; buying once means signing again charges nothing, in any month."""
    a, b = world.companies["A"], world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(s, world, "one_off", 120_000, kst(2026, 3, 10))
        tx = ledger.charge_on_signing(s, agreement, fee_rate=FEE)
        assert tx is not None
        assert (tx.kind, tx.period, tx.agreement_id) == ("one_off", "2026-03", agreement.id)
        assert entries(s, tx.id) == {
            f"company:{b}": (b, 120_000, 0),
            f"company:{a}": (a, 0, 114_000),
            "platform:fees": (None, 0, 6_000),
        }
        assert ledger.charge_on_signing(s, agreement, fee_rate=FEE) is None
        later = ledger.post_charge(s, agreement, "one_off", "2026-05", 120_000, fee_rate=FEE)
        assert later is None
        assert _count(s) == 1


def test_monthly_charges_the_first_month_at_signing_and_the_rest_at_settlement(
    ctx: Context, world: World
) -> None:
    """50,000 KRW a month at 5%: 47,500 to the seller, 2,500 to the platform, once a month."""
    a, b = world.companies["A"], world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(s, world, "monthly", 50_000, kst(2026, 3, 15))
        first = ledger.charge_on_signing(s, agreement, fee_rate=FEE)
        assert first is not None and first.period == "2026-03"
        march = ledger.settle_month(s, SYSTEM, "2026-03", fee_rate=FEE)
        assert march.posted == 0 and march.total_krw == 0
        april = ledger.settle_month(s, SYSTEM, "2026-04", fee_rate=FEE)
        assert april.posted == 1
        assert april.total_krw == 50_000
        assert april.by_kind == {"monthly": 50_000, "per_1000_rows": 0}
        tx = s.get(LedgerTransaction, april.transaction_ids[0])
        assert tx is not None and (tx.kind, tx.period) == ("monthly", "2026-04")
        assert entries(s, tx.id) == {
            f"company:{b}": (b, 50_000, 0),
            f"company:{a}": (a, 0, 47_500),
            "platform:fees": (None, 0, 2_500),
        }


def test_usage_priced_sums_the_allowed_rows_of_the_month(ctx: Context, world: World) -> None:
    """12,345 allowed rows in April at 2,000 KRW per 1,000 rows: 24,690 KRW; the fee, 1,234.5,
    rounds half up to 1,235, so the seller gets 23,455. Denied accesses and other months'
    rows are not charged."""
    a, b = world.companies["A"], world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(s, world, "per_1000_rows", 2_000, kst(2026, 3, 1))
        assert ledger.charge_on_signing(s, agreement, fee_rate=FEE) is None
        add_usage(s, agreement, 10_000, kst(2026, 4, 1, 0, 0))  # the month's first minute
        add_usage(s, agreement, 2_345, kst(2026, 4, 30, 23, 59))  # and its last
        add_usage(s, agreement, 5_000, kst(2026, 4, 12), allowed=False)
        add_usage(s, agreement, 7_000, kst(2026, 3, 31, 23, 59))
        add_usage(s, agreement, 9_000, kst(2026, 5, 1, 0, 0))
        report = ledger.settle_month(s, SYSTEM, "2026-04", fee_rate=FEE)
        assert report.by_kind == {"monthly": 0, "per_1000_rows": 24_690}
        (tx_id,) = report.transaction_ids
        assert entries(s, tx_id) == {
            f"company:{b}": (b, 24_690, 0),
            f"company:{a}": (a, 0, 23_455),
            "platform:fees": (None, 0, 1_235),
        }
        tx = s.get(LedgerTransaction, tx_id)
        assert tx is not None and "12,345 rows" in tx.memo


def test_usage_amounts_round_half_up_to_whole_won(ctx: Context, world: World) -> None:
    """One row at 500 KRW per 1,000 is half a won, charged as 1; at 499 it is under half a
    won, and nothing is posted for a zero amount."""
    with ctx.db.unit(SYSTEM) as s:
        half = make_agreement(s, world, "per_1000_rows", 500, kst(2026, 1, 5))
        under = make_agreement(s, world, "per_1000_rows", 499, kst(2026, 1, 5))
        add_usage(s, half, 1, kst(2026, 2, 3))
        add_usage(s, under, 1, kst(2026, 2, 3))
        report = ledger.settle_month(s, SYSTEM, "2026-02", fee_rate=FEE)
        assert report.posted == 1
        tx = s.get(LedgerTransaction, report.transaction_ids[0])
        assert tx is not None and tx.agreement_id == half.id
        # the fee of 0.05 won rounds to nothing, so there is no platform line
        assert sorted(v[1:] for v in entries(s, tx.id).values()) == [(0, 1), (1, 0)]


def test_a_remote_consumer_has_a_hashed_account(ctx: Context, world: World) -> None:
    """A participant of another complex is charged on remote:<sha256(participant)[:16]>."""
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(
            s, world, "one_off", 10_000, kst(2026, 6, 1), parties=("A", None)
        )
        tx = ledger.charge_on_signing(s, agreement, fee_rate=0.1)
        assert tx is not None
        account = "remote:" + hashlib.sha256(REMOTE.encode()).hexdigest()[:16]
        assert entries(s, tx.id)[account] == (None, 10_000, 0)
        assert ledger.remote_account(REMOTE) == account


# --- settling a month --------------------------------------------------------------------------


def test_settling_a_month_twice_posts_nothing_new(ctx: Context, world: World) -> None:
    with ctx.db.unit(SYSTEM) as s:
        monthly = make_agreement(s, world, "monthly", 30_000, kst(2026, 1, 20))
        metered = make_agreement(
            s, world, "per_1000_rows", 1_000, kst(2026, 1, 20), parties=("B", "A")
        )
        add_usage(s, metered, 4_321, kst(2026, 2, 14))
        first = ledger.settle_month(s, SYSTEM, "2026-02", fee_rate=FEE)
        assert first.posted == 2
        assert first.total_krw == 30_000 + 4_321
        posted = _count(s)
        again = ledger.settle_month(s, SYSTEM, "2026-02", fee_rate=FEE)
        assert (again.posted, again.total_krw) == (0, 0)
        assert _count(s) == posted
        assert {tx.agreement_id for tx in s.scalars(select(LedgerTransaction))} == {
            monthly.id,
            metered.id,
        }
    # and in a later unit of work too, from what was committed
    with ctx.db.unit(SYSTEM) as s:
        assert ledger.settle_month(s, SYSTEM, "2026-02", fee_rate=FEE).posted == 0
        assert _count(s) == posted


def test_only_agreements_in_force_during_the_month_are_charged(ctx: Context, world: World) -> None:
    """Terminated or expired in March: charged for March, not for April. Expiring or
    terminated exactly at the start of April is not in force in April. Signed mid-April:
    charged for April (and May). Signed in May: not charged for April."""
    with ctx.db.unit(SYSTEM) as s:

        def monthly(
            signed_at: datetime,
            expires_at: datetime | None = None,
            terminated_at: datetime | None = None,
        ) -> int:
            return make_agreement(
                s,
                world,
                "monthly",
                10_000,
                signed_at,
                expires_at=expires_at,
                terminated_at=terminated_at,
            ).id

        terminated = monthly(signed_at=kst(2026, 1, 5), terminated_at=kst(2026, 3, 20))
        expired = monthly(signed_at=kst(2026, 1, 5), expires_at=kst(2026, 3, 25))
        ends_at_april = monthly(signed_at=kst(2026, 1, 5), expires_at=kst(2026, 4, 1, 0, 0))
        ended_at_april = monthly(signed_at=kst(2026, 1, 5), terminated_at=kst(2026, 4, 1, 0, 0))
        mid_april = monthly(signed_at=kst(2026, 4, 17))
        may = monthly(signed_at=kst(2026, 5, 1, 0, 0))
        running = monthly(signed_at=kst(2026, 2, 1), expires_at=kst(2026, 4, 2))

        def charged(period: str) -> set[int | None]:
            report = ledger.settle_month(s, SYSTEM, period, fee_rate=FEE)
            ids = list(report.transaction_ids)
            return set(
                s.scalars(
                    select(LedgerTransaction.agreement_id).where(LedgerTransaction.id.in_(ids))
                )
            )

        assert charged("2026-03") == {terminated, expired, ends_at_april, ended_at_april, running}
        assert charged("2026-04") == {mid_april, running}
        assert charged("2026-05") == {mid_april, may}


def test_metered_usage_before_termination_is_still_charged(ctx: Context, world: World) -> None:
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(
            s, world, "per_1000_rows", 3_000, kst(2026, 1, 5), terminated_at=kst(2026, 3, 10)
        )
        add_usage(s, agreement, 2_000, kst(2026, 3, 9))
        assert ledger.settle_month(s, SYSTEM, "2026-03", fee_rate=FEE).total_krw == 6_000
        assert ledger.settle_month(s, SYSTEM, "2026-04", fee_rate=FEE).posted == 0


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "26-03", "march", "2026-03-01", ""])
def test_a_malformed_period_names_the_field(ctx: Context, period: str) -> None:
    with ctx.db.unit(SYSTEM) as s, pytest.raises(ValidationFailed) as caught:
        ledger.settle_month(s, SYSTEM, period, fee_rate=FEE)
    assert [p.field for p in caught.value.problems] == ["period"]


def test_bad_charges_are_refused(ctx: Context, world: World) -> None:
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(s, world, "monthly", 1_000, kst(2026, 1, 5))
        cases = [
            ("monthly", "2026-01", -1, FEE, "amount_krw"),
            ("monthly", "2026-01", 1_000, 1.5, "fee_rate"),
            ("monthly", "2026-01", 1_000, float("nan"), "fee_rate"),
            ("refund", "2026-01", 1_000, FEE, "kind"),
            ("monthly", "2026/01", 1_000, FEE, "period"),
        ]
        for kind, period, amount, rate, field in cases:
            with pytest.raises(ValidationFailed) as caught:
                ledger.post_charge(s, agreement, kind, period, amount, fee_rate=rate)
            assert caught.value.problems[0].field == field
        assert ledger.post_charge(s, agreement, "monthly", "2026-01", 0, fee_rate=FEE) is None
        assert _count(s) == 0
        with pytest.raises(ValidationFailed):
            ledger.settle_month(s, SYSTEM, "2026-01", fee_rate=-0.1)


# --- who may settle and read -----------------------------------------------------------------


def test_a_company_member_cannot_settle_the_operator_can(ctx: Context, world: World) -> None:
    with ctx.db.unit(SYSTEM) as s:
        make_agreement(s, world, "monthly", 7_000, kst(2026, 1, 5))
    for who in ("member_a", "admin_b", "auditor"):
        with ctx.db.unit(SYSTEM) as s, pytest.raises(PermissionDenied):
            ledger.settle_month(s, principal(world, who), "2026-01", fee_rate=FEE)
    with ctx.db.unit(SYSTEM) as s:
        assert _count(s) == 0
        report = ledger.settle_month(s, principal(world, "operator"), "2026-01", fee_rate=FEE)
        assert report.total_krw == 7_000


def test_balances_are_for_the_company_and_the_operator(ctx: Context, world: World) -> None:
    a, b = world.companies["A"], world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        sold = make_agreement(s, world, "one_off", 120_000, kst(2026, 3, 10))
        bought = make_agreement(s, world, "one_off", 20_000, kst(2026, 3, 11), parties=("B", "A"))
        ledger.charge_on_signing(s, sold, fee_rate=FEE)
        ledger.charge_on_signing(s, bought, fee_rate=FEE)
    with ctx.db.unit(SYSTEM) as s:
        mine = ledger.balances(s, principal(world, "member_a"), a)
        assert mine == {"debits": 20_000, "credits": 114_000, "net": 94_000}
        assert ledger.balances(s, principal(world, "operator"), a) == mine
        assert ledger.balances(s, principal(world, "admin_b"), b) == {
            "debits": 120_000,
            "credits": 19_000,
            "net": -101_000,
        }
        for who in ("member_b", "admin_b", "safety", "auditor"):
            with pytest.raises(NotFound):
                ledger.balances(s, principal(world, who), a)
        with pytest.raises(NotFound):
            ledger.balances(s, principal(world, "operator"), 999_999)


def test_unbalanced_finds_a_transaction_written_around_the_ledger(
    ctx: Context, world: World
) -> None:
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(s, world, "one_off", 5_000, kst(2026, 3, 10))
        tx = ledger.charge_on_signing(s, agreement, fee_rate=FEE)
        assert tx is not None
        assert ledger.unbalanced(s) == []
        s.add(LedgerEntry(transaction_id=tx.id, account="platform:fees", credit_krw=1))
        s.flush()
        assert ledger.unbalanced(s) == [tx.id]


# --- the invariants under random charges -------------------------------------------------------

_charge = st.tuples(
    st.integers(0, 2),  # which agreement
    st.sampled_from(ledger.KINDS),
    st.integers(1, 4),  # month of 2026
    st.integers(0, 10**10),  # KRW
    st.one_of(st.sampled_from([0.0, 0.01, 0.025, 0.05, 0.1, 1.0]), st.floats(0, 1)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(charges=st.lists(_charge, max_size=12))
def test_random_charges_keep_the_books_balanced(
    ctx: Context, world: World, charges: list[tuple[int, str, int, int, float]]
) -> None:
    """Every transaction balances, all accounts' nets sum to zero, each charge's lines are
    the price and its fee worked out independently, and a repeated charge posts nothing."""
    with scratch(ctx) as s:
        agreements = trio(s, world)
        seen: set[tuple[int, str, str]] = set()
        for which, kind, month, amount, rate in charges:
            agreement = agreements[which]
            period = f"2026-{month:02d}"
            key = (which, kind, "" if kind == "one_off" else period)
            tx = ledger.post_charge(s, agreement, kind, period, amount, fee_rate=rate)
            if amount == 0 or key in seen:
                assert tx is None
                continue
            seen.add(key)
            assert tx is not None
            fee = expected_fee(amount, rate)
            lines = entries(s, tx.id)
            consumer = ledger.party_account(
                agreement.consumer_company_id, agreement.consumer_participant
            )[0]
            provider = f"company:{agreement.provider_company_id}"
            assert lines[consumer][1:] == (amount, 0)
            assert lines.get(provider, (None, 0, 0))[1:] == (0, amount - fee)
            assert lines.get("platform:fees", (None, 0, 0))[1:] == (0, fee)
        assert _count(s) == len(seen)
        assert ledger.unbalanced(s) == []
        net = s.scalar(select(func.sum(LedgerEntry.credit_krw - LedgerEntry.debit_krw)))
        assert int(net or 0) == 0
        nets = [ledger.balances(s, SYSTEM, world.companies[k])["net"] for k in ("A", "B")]
        others = s.scalar(
            select(func.sum(LedgerEntry.credit_krw - LedgerEntry.debit_krw)).where(
                LedgerEntry.company_id.is_(None)
            )
        )
        assert sum(nets) + int(others or 0) == 0
