"""The sharing CLI as an operator runs it from cron: `sandan sharing settle YYYY-MM` posts the
month at the settings' fee rate and is safe to repeat, `sandan sharing ledger-check` fails on
a transaction written around the ledger."""

from __future__ import annotations

from ledger_fixtures import SYSTEM, add_usage, entries, kst, make_agreement
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from conftest import World
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.sharing.models import LedgerEntry, LedgerTransaction
from sandan.sharing.service import ledger


def _run(settings: Settings, *args: str, fee_rate: str = "0.1") -> Result:
    """The command against the test's database, as `sandan` would read it from the env."""
    env = {"SANDAN_DATA_DIR": str(settings.data_dir), "SANDAN_SHARING_FEE_RATE": fee_rate}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    return CliRunner().invoke(cli, ["sharing", *args], env=env)


def _transactions(ctx: Context) -> list[tuple[int, str, str]]:
    with ctx.db.unit() as s:
        rows = s.execute(
            select(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.period)
        )
        return sorted((int(i), kind, period) for i, kind, period in rows)


def test_settle_posts_the_month_at_the_settings_fee_rate_once(
    settings: Settings, ctx: Context, world: World
) -> None:
    with ctx.db.unit(SYSTEM) as s:
        make_agreement(s, world, "monthly", 30_000, kst(2026, 1, 15))
        metered = make_agreement(
            s, world, "per_1000_rows", 100, kst(2026, 2, 1), parties=("B", "A")
        )
        add_usage(s, metered, 12_345, kst(2026, 2, 10))
        add_usage(s, metered, 999_999, kst(2026, 2, 11), allowed=False)  # refused: not billed
        add_usage(s, metered, 5_000, kst(2026, 3, 1, 0, 30))  # next month in Korean time

    first = _run(settings, "settle", "2026-02")
    assert first.exit_code == 0, first.output
    assert "Settlement of 2026-02" in first.output and "10.00%" in first.output
    assert "Posted 2 transactions, 31,235 KRW" in first.output
    posted = _transactions(ctx)
    assert [(kind, period) for _, kind, period in posted] == [
        ("monthly", "2026-02"),
        ("per_1000_rows", "2026-02"),
    ]
    with ctx.db.unit() as s:
        monthly, metered_tx = (entries(s, tx) for tx, _, _ in posted)
    a, b = world.companies["A"], world.companies["B"]
    # 30,000 from B to A less a 10% fee; 12,345 rows at 100 KRW per 1,000 = 1,234.5 -> 1,235
    assert monthly == {
        f"company:{b}": (b, 30_000, 0),
        f"company:{a}": (a, 0, 27_000),
        "platform:fees": (None, 0, 3_000),
    }
    assert metered_tx == {
        f"company:{a}": (a, 1_235, 0),
        f"company:{b}": (b, 0, 1_111),
        "platform:fees": (None, 0, 124),
    }
    fees_line = next(line for line in first.output.splitlines() if "total" in line)
    assert "31,235" in fees_line and "3,124" in fees_line and "28,111" in fees_line

    again = _run(settings, "settle", "2026-02")
    assert again.exit_code == 0, again.output
    assert "Nothing new to post for 2026-02" in again.output
    assert _transactions(ctx) == posted


def test_settle_refuses_a_malformed_month_and_a_bad_fee_rate(
    settings: Settings, ctx: Context, world: World
) -> None:
    bad_month = _run(settings, "settle", "2026-13")
    assert bad_month.exit_code == 1
    assert "ValidationFailed" in bad_month.output and "YYYY-MM" in bad_month.output
    with ctx.db.unit(SYSTEM) as s:
        make_agreement(s, world, "monthly", 30_000, kst(2026, 1, 15))
    bad_rate = _run(settings, "settle", "2026-02", fee_rate="1.5")
    assert bad_rate.exit_code != 0 and "sharing_fee_rate" in str(bad_rate.exception)
    assert _transactions(ctx) == []


def test_ledger_check_passes_a_balanced_ledger_and_fails_a_tampered_one(
    settings: Settings, ctx: Context, world: World
) -> None:
    empty = _run(settings, "ledger-check")
    assert empty.exit_code == 0 and "0 transactions checked" in empty.output
    with ctx.db.unit(SYSTEM) as s:
        for day in (1, 2, 3):
            agreement = make_agreement(s, world, "one_off", 5_000 * day, kst(2026, 3, day))
            assert ledger.charge_on_signing(s, agreement, fee_rate=0.05) is not None
    balanced = _run(settings, "ledger-check")
    assert balanced.exit_code == 0, balanced.output
    assert "Ledger balanced: 3 transactions checked" in balanced.output

    with ctx.db.unit(SYSTEM) as s:
        tx = s.scalar(select(func.max(LedgerTransaction.id)))
        assert tx is not None
        s.add(LedgerEntry(transaction_id=tx, account="platform:fees", credit_krw=1))
    tampered = _run(settings, "ledger-check")
    assert tampered.exit_code == 1
    assert f"Ledger UNBALANCED: 1 of 3 transactions: {tx}" in tampered.output
