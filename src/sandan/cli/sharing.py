"""`sandan sharing`: monthly settlement and the ledger's integrity."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sandan.cli.common import DataDir, _context, _settings, console, sharing_app


@sharing_app.command("settle")
def sharing_settle(
    period: Annotated[str, typer.Argument(help="The billing month, YYYY-MM (Korean time).")],
    data_dir: DataDir = None,
) -> None:
    """Settle a month as the system, at the settings' fee rate (SANDAN_SHARING_FEE_RATE):
    subscriptions and metered rows become balanced ledger postings. A settled month posts
    nothing new, so the command is safe to repeat (cron)."""
    from sqlalchemy import case, func, select

    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.sharing.models import LedgerEntry, LedgerTransaction
    from sandan.sharing.service import ledger

    settings = _settings(data_dir)
    ctx = _context(settings)
    principal = Principal.system("cli-settle")
    fee = case((LedgerEntry.account == ledger.PLATFORM_ACCOUNT, LedgerEntry.credit_krw), else_=0)
    try:
        with ctx.db.unit(principal) as session:
            report = ledger.settle_month(
                session, principal, period, fee_rate=settings.sharing_fee_rate
            )
            posted = session.execute(
                select(LedgerTransaction.kind, func.count(func.distinct(LedgerTransaction.id)))
                .add_columns(func.sum(fee))
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .where(LedgerTransaction.id.in_(report.transaction_ids))
                .group_by(LedgerTransaction.kind)
            ).all()
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None
    counts = {kind: (int(n), int(fees or 0)) for kind, n, fees in posted}
    counts["total"] = (report.posted, sum(fees for _, fees in counts.values()))
    table = Table("charge", "transactions", "charged KRW", "platform fee KRW", "to providers KRW")
    table.title = f"Settlement of {report.period} (fee rate {settings.sharing_fee_rate:.2%})"
    for kind, amount in [*report.by_kind.items(), ("total", report.total_krw)]:
        n, fees = counts.get(kind, (0, 0))
        table.add_row(kind, f"{n:,}", f"{amount:,}", f"{fees:,}", f"{amount - fees:,}")
    console.print(table)
    if report.posted:
        console.print(f"[green]Posted {report.posted} transactions, {report.total_krw:,} KRW[/]")
    else:
        console.print(
            f"[yellow]Nothing new to post for {report.period}: already settled, or no "
            "subscription or metered usage in force that month[/]"
        )


@sharing_app.command("ledger-check")
def sharing_ledger_check(data_dir: DataDir = None) -> None:
    """Check that every ledger transaction balances (debits = credits); exits 1 if any does
    not, which means the ledger was written around the platform."""
    from sqlalchemy import func, select

    from sandan.sharing.models import LedgerTransaction
    from sandan.sharing.service import ledger

    ctx = _context(_settings(data_dir))
    with ctx.db.unit() as session:
        bad = ledger.unbalanced(session)
        checked = session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0
    if not bad:
        console.print(f"[green]Ledger balanced: {checked:,} transactions checked[/]")
        return
    shown = ", ".join(str(i) for i in bad[:50]) + (" …" if len(bad) > 50 else "")
    console.print(f"[red]Ledger UNBALANCED: {len(bad)} of {checked:,} transactions: {shown}[/]")
    raise typer.Exit(1)
