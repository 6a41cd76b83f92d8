"""Monthly statements: opening, lines and running balance, counterparties that are only the
agreement's parties, who may read them, and the CSV an accountant opens in Excel."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_fixtures import (
    REMOTE,
    SYSTEM,
    add_usage,
    kst,
    make_agreement,
    principal,
    scratch,
    trio,
)

from conftest import World
from sandan.core.context import Context
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.sharing.service import ledger
from sandan.sharing.service.statements import (
    Statement,
    platform_statement,
    statement,
    statement_csv,
)

FEE = 0.05


def _trade(ctx: Context, world: World) -> dict[str, str]:
    """March: B buys a 120,000 one-off from A (10th); A buys B's 30,000 subscription (12th);
    a remote participant buys a 10,000 one-off from A (20th). April: the subscription
    renews, and B reads 12,345 rows of A's metered data at 2,000 per 1,000 (24,690).
    Returns the agreements' uids by name."""
    with ctx.db.unit(SYSTEM) as s:
        one_off = make_agreement(s, world, "one_off", 120_000, kst(2026, 3, 10))
        monthly = make_agreement(s, world, "monthly", 30_000, kst(2026, 3, 12), parties=("B", "A"))
        remote = make_agreement(s, world, "one_off", 10_000, kst(2026, 3, 20), parties=("A", None))
        metered = make_agreement(s, world, "per_1000_rows", 2_000, kst(2026, 3, 25))
        for agreement in (one_off, monthly, remote, metered):
            ledger.charge_on_signing(s, agreement, fee_rate=FEE)
        add_usage(s, metered, 12_345, kst(2026, 4, 8))
        ledger.settle_month(s, SYSTEM, "2026-03", fee_rate=FEE)
        ledger.settle_month(s, SYSTEM, "2026-04", fee_rate=FEE)
        return {
            "one_off": one_off.uid,
            "monthly": monthly.uid,
            "remote": remote.uid,
            "metered": metered.uid,
        }


def _amounts(st_: Statement) -> list[tuple[str, int, int, int]]:
    return [(x.kind, x.debit_krw, x.credit_krw, x.balance_krw) for x in st_.lines]


def test_a_company_statement_has_the_month_in_order_with_a_running_balance(
    ctx: Context, world: World
) -> None:
    uids = _trade(ctx, world)
    a = world.companies["A"]
    with ctx.db.unit(SYSTEM) as s:
        march = statement(s, principal(world, "member_a"), a, "2026-03")
        april = statement(s, principal(world, "member_a"), a, "2026-04")
        total = ledger.balances(s, principal(world, "member_a"), a)
    assert (march.account, march.holder, march.period) == (f"company:{a}", "회사A", "2026-03")
    assert march.opening_krw == 0
    # sold 120,000 (-5%), bought 30,000, sold 10,000 (-5%) to the remote participant
    assert _amounts(march) == [
        ("one_off", 0, 114_000, 114_000),
        ("monthly", 30_000, 0, 84_000),
        ("one_off", 0, 9_500, 93_500),
    ]
    assert [x.date for x in march.lines] == [
        date(2026, 3, 10),
        date(2026, 3, 12),
        date(2026, 3, 20),
    ]
    assert [x.agreement_uid for x in march.lines] == [
        uids["one_off"],
        uids["monthly"],
        uids["remote"],
    ]
    assert [x.counterparty for x in march.lines] == ["회사B", "회사B", REMOTE]
    assert "6,000 KRW" in march.lines[0].description  # a seller sees the fee it paid
    assert "fee" not in march.lines[1].description  # a buyer is not told the seller's fee
    assert march.closing_krw == 93_500
    assert (march.total_debit_krw, march.total_credit_krw) == (30_000, 123_500)
    # April: the renewal (-30,000) and the metered 24,690 less its 1,235 fee
    assert april.opening_krw == march.closing_krw
    assert sorted((x.kind, x.debit_krw, x.credit_krw) for x in april.lines) == [
        ("monthly", 30_000, 0),
        ("per_1000_rows", 0, 23_455),
    ]
    assert april.closing_krw == 93_500 - 30_000 + 23_455 == total["net"]


def test_the_buyer_sees_the_seller_and_no_one_else(ctx: Context, world: World) -> None:
    """B's statement names only A, its counterparty; A's trade with the remote participant
    is not on it in any form."""
    uids = _trade(ctx, world)
    b = world.companies["B"]
    with ctx.db.unit(SYSTEM) as s:
        march = statement(s, principal(world, "admin_b"), b, "2026-03")
    assert {x.counterparty for x in march.lines} == {"회사A"}
    assert uids["remote"] not in {x.agreement_uid for x in march.lines}
    text = statement_csv(march)
    assert REMOTE not in text and "ULSAN" not in text
    assert _amounts(march) == [("one_off", 120_000, 0, -120_000), ("monthly", 0, 28_500, -91_500)]


def test_the_platform_statement_is_the_fees_for_the_operator(ctx: Context, world: World) -> None:
    _trade(ctx, world)
    with ctx.db.unit(SYSTEM) as s:
        fees = platform_statement(s, principal(world, "operator"), "2026-03")
        april = platform_statement(s, SYSTEM, "2026-04")
        for who in ("member_a", "admin_b", "auditor"):
            with pytest.raises(PermissionDenied):
                platform_statement(s, principal(world, who), "2026-03")
    assert fees.account == "platform:fees"
    assert [x.credit_krw for x in fees.lines] == [6_000, 1_500, 500]
    assert [x.counterparty for x in fees.lines] == [
        "회사B → 회사A",
        "회사A → 회사B",
        f"{REMOTE} → 회사A",
    ]
    assert fees.closing_krw == 8_000
    assert april.opening_krw == 8_000
    assert april.closing_krw == 8_000 + 1_500 + 1_235


def test_only_the_company_and_the_operator_read_its_statement(ctx: Context, world: World) -> None:
    _trade(ctx, world)
    a = world.companies["A"]
    with ctx.db.unit(SYSTEM) as s:
        own = statement(s, principal(world, "member_a"), a, "2026-03")
        assert statement(s, principal(world, "operator"), a, "2026-03") == own
        for who in ("member_b", "admin_b", "safety", "logistics", "auditor"):
            with pytest.raises(NotFound):
                statement(s, principal(world, who), a, "2026-03")
        with pytest.raises(NotFound):
            statement(s, principal(world, "operator"), 999_999, "2026-03")


@pytest.mark.parametrize("period", ["2026-00", "2026-1", "1999-12", "2026-03 "])
def test_a_statement_for_a_malformed_period_names_the_field(
    ctx: Context, world: World, period: str
) -> None:
    with ctx.db.unit(SYSTEM) as s, pytest.raises(ValidationFailed) as caught:
        statement(s, principal(world, "member_a"), world.companies["A"], period)
    assert caught.value.problems[0].field == "period"


def test_an_empty_month_carries_the_balance(ctx: Context, world: World) -> None:
    _trade(ctx, world)
    a = world.companies["A"]
    with ctx.db.unit(SYSTEM) as s:
        april = statement(s, SYSTEM, a, "2026-04")
        june = statement(s, SYSTEM, a, "2026-06")
        february = statement(s, SYSTEM, a, "2026-02")
    assert june.lines == ()
    assert june.opening_krw == june.closing_krw == april.closing_krw
    assert february.opening_krw == february.closing_krw == 0


# --- the CSV -----------------------------------------------------------------------------------


def _parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_has_a_bom_the_header_the_lines_and_the_closing_row(
    ctx: Context, world: World
) -> None:
    _trade(ctx, world)
    a = world.companies["A"]
    with ctx.db.unit(SYSTEM) as s:
        march = statement(s, SYSTEM, a, "2026-03")
    text = statement_csv(march)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    rows = _parse(text)
    header = "date,transaction,agreement,counterparty,kind,description,debit_krw,credit_krw"
    assert rows[0] == [*header.split(","), "balance_krw"]
    body, closing = rows[1:-1], rows[-1]
    assert len(body) == len(march.lines) == 3
    balance = march.opening_krw
    for row, line in zip(body, march.lines, strict=True):
        debit, credit, running = int(row[6]), int(row[7]), int(row[8])
        balance += credit - debit
        assert running == balance
        assert (row[0], int(row[1]), row[2], row[3], row[4]) == (
            line.date.isoformat(),
            line.transaction_id,
            line.agreement_uid,
            line.counterparty,
            line.kind,
        )
    assert body[0][3] == "회사B"  # Korean survives the round trip
    assert closing[0] == "closing"
    assert int(closing[6]) == sum(int(r[6]) for r in body)
    assert int(closing[7]) == sum(int(r[7]) for r in body)
    assert int(closing[8]) == balance == march.closing_krw


def test_a_csv_cell_never_becomes_a_spreadsheet_formula(ctx: Context, world: World) -> None:
    """A participant id is text another complex chose; a leading '=' must stay text."""
    hostile = '=HYPERLINK("http://evil.example","x")'
    with ctx.db.unit(SYSTEM) as s:
        agreement = make_agreement(
            s,
            world,
            "one_off",
            1_000,
            kst(2026, 7, 1),
            parties=("A", None),
            remote_consumer=hostile,
        )
        ledger.charge_on_signing(s, agreement, fee_rate=FEE)
        july = statement(s, SYSTEM, world.companies["A"], "2026-07")
    assert july.lines[0].counterparty == hostile
    (row,) = _parse(statement_csv(july))[1:-1]
    assert row[3] == "'" + hostile


# --- statements agree with balances under random charges --------------------------------------

_charge = st.tuples(
    st.integers(0, 2),
    st.sampled_from(ledger.KINDS),
    st.integers(1, 5),
    st.integers(0, 10**9),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(charges=st.lists(_charge, max_size=10), rate=st.floats(0, 1))
def test_months_chain_and_end_at_the_balance(
    ctx: Context, world: World, charges: list[tuple[int, str, int, int]], rate: float
) -> None:
    """Each month opens where the last closed, each line's balance follows from the one
    before, and the last closing balance is the company's net; the platform's too."""
    with scratch(ctx) as s:
        agreements = trio(s, world)
        for which, kind, month, amount in charges:
            ledger.post_charge(
                s, agreements[which], kind, f"2026-{month:02d}", amount, fee_rate=rate
            )
        for key in ("A", "B"):
            company = world.companies[key]
            months = [statement(s, SYSTEM, company, f"2026-{m:02d}") for m in range(1, 6)]
            _check_chain(months)
            assert months[-1].closing_krw == ledger.balances(s, SYSTEM, company)["net"]
        _check_chain([platform_statement(s, SYSTEM, f"2026-{m:02d}") for m in range(1, 6)])


def _check_chain(months: list[Statement]) -> None:
    assert months[0].opening_krw == 0
    for before, after in itertools.pairwise(months):
        assert after.opening_krw == before.closing_krw
    for month in months:
        balance = month.opening_krw
        for line in month.lines:
            balance += line.credit_krw - line.debit_krw
            assert line.balance_krw == balance
        assert month.closing_krw == balance
