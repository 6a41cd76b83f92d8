"""Usage and money: who used the company's data (or what it used), allowed or denied and why,
with its KRW balance; and the monthly statement with its CSV download. The complex's staff
name a company with `?company=`; a company's people always see their own."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.sharing.models import Usage
from sandan.sharing.service import access, ledger, statements
from sandan.sharing.service.statements import Statement
from sandan.web.formats import krw, recent_months
from sandan.web.sharing_ui import act, company_names, local_time, read, sharing_page
from sandan.web.shell import PageContext

USAGE_ROWS = 500


def _company(page: PageContext, request: Request) -> int | None:
    """Whose ledger: the viewer's company; the complex's staff pick one (kept in `?company=`
    so that the choice is a link like any other)."""
    if not page.principal.is_operator:
        return page.principal.company_id
    named = request.query_params.get("company", "")
    chosen = int(named) if named.isdigit() else None
    companies = read(
        page,
        lambda s, p: {c.id: c.name for c in s.scalars(registry.list_companies_stmt(p).limit(5000))},
    )
    picker = (
        ui.select(
            companies,
            value=chosen if chosen in companies else None,
            with_input=True,
            label=page.t("company"),
        )
        .classes("w-96")
        .props('id="ledger-company"')
    )
    path = request.url.path
    picker.on_value_change(lambda e: ui.navigate.to(f"{path}?company={e.value}"))
    if chosen is None:
        ui.label(page.t("sharing_name_a_company")).classes("text-slate-600")
    return chosen


def _figure(label: str, value: str, element_id: str) -> None:
    with ui.card().classes("w-56"):
        ui.label(label).classes("text-sm text-slate-600")
        ui.label(value).classes("text-2xl font-bold").props(f'id="{element_id}"')


# --- usage -------------------------------------------------------------------------------------


def _usage_rows(
    session: Session, principal: Principal, page: PageContext, company_id: int
) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    money = ledger.balances(session, principal, company_id)
    rows, total = access.usage(session, principal, company_id, limit=USAGE_ROWS, offset=0)
    names = company_names(
        session, [c for u in rows for c in (u.provider_company_id, u.consumer_company_id)]
    )
    return money, [_usage_row(page, company_id, u, names) for u in rows], total


def _usage_row(
    page: PageContext, company_id: int, u: Usage, names: dict[int, str]
) -> dict[str, Any]:
    t, ko = page.t, page.lang == "ko"
    provided = u.provider_company_id == company_id
    other = u.consumer_company_id if provided else u.provider_company_id
    reasons = "; ".join(r.get("message_ko" if ko else "message", "") for r in u.reasons)
    return {
        "id": u.id,
        "at": local_time(page.ctx, u.at),
        "direction": t("sharing_provided_to" if provided else "sharing_used_from"),
        "party": names.get(other or 0, "–"),
        "agreement": f"#{u.agreement_id}",
        "kind": t(f"sharing_usage_{u.kind}"),
        "allowed": "✓ " + t("sharing_allowed") if u.allowed else "✗ " + t("sharing_denied"),
        "reason": reasons,
        "rows": f"{u.rows:,}",
        "actor": u.actor,
    }


def _usage_page(page: PageContext, company_id: int) -> None:
    found = act(page, lambda s, p: _usage_rows(s, p, page, company_id))
    if found is None:
        ui.label(page.t("not_found")).classes("text-red-700")
        return
    money, rows, total = found
    with ui.row().classes("gap-4"):
        _figure(page.t("sharing_earned"), krw(money["credits"], page.lang), "balance-credits")
        _figure(page.t("sharing_spent"), krw(money["debits"], page.lang), "balance-debits")
        _figure(page.t("sharing_net"), krw(money["net"], page.lang), "balance-net")
    ui.label(f"{page.t('sharing_accesses')}: {total:,}").classes("text-lg font-semibold")
    keys = ("at", "direction", "party", "agreement", "kind", "allowed", "reason", "rows", "actor")
    columns = [
        {"name": k, "label": page.t(f"sharing_col_{k}"), "field": k, "align": "left"} for k in keys
    ]
    table = ui.table(columns=columns, rows=rows, row_key="id", pagination=25)
    table.classes("w-full").props('id="usage-table" dense flat wrap-cells')
    table.props(f'no-data-label="{page.t("sharing_no_accesses")}"')


# --- statements --------------------------------------------------------------------------------


def _statement_view(page: PageContext, company_id: int, month: str) -> None:
    found: Statement | None = act(page, lambda s, p: statements.statement(s, p, company_id, month))
    if found is None:
        return
    money = page.lang
    with ui.row().classes("gap-4"):
        _figure(page.t("sharing_opening"), krw(found.opening_krw, money), "statement-opening")
        _figure(page.t("sharing_credits"), krw(found.total_credit_krw, money), "statement-credit")
        _figure(page.t("sharing_debits"), krw(found.total_debit_krw, money), "statement-debit")
        _figure(page.t("sharing_closing"), krw(found.closing_krw, money), "statement-closing")
    csv = f"/api/v1/sharing/companies/{company_id}/statements/{month}.csv"
    ui.link(f"⬇ {page.t('sharing_download_csv')}", csv).props('id="statement-csv" download')
    keys = ("date", "counterparty", "kind", "description", "debit", "credit", "balance")
    columns = [
        {"name": k, "label": page.t(f"sharing_col_{k}"), "field": k, "align": "left"} for k in keys
    ]
    rows = [
        {
            "id": i,
            "date": line.date.isoformat(),
            "counterparty": line.counterparty,
            "kind": page.t(f"sharing_price_{line.kind}"),
            "description": line.description,
            "debit": f"{line.debit_krw:,}" if line.debit_krw else "",
            "credit": f"{line.credit_krw:,}" if line.credit_krw else "",
            "balance": f"{line.balance_krw:,}",
        }
        for i, line in enumerate(found.lines)
    ]
    if not rows:
        ui.label(page.t("sharing_no_lines")).classes("text-slate-500")
    ui.table(columns=columns, rows=rows, row_key="id").classes("w-full").props(
        'id="statement-table" dense flat'
    )


def register(ctx: Context) -> None:
    @sharing_page(ctx, "/sharing/usage", "sharing_usage")
    def usage_page(page: PageContext, request: Request) -> None:
        company_id = _company(page, request)
        if company_id is not None:
            _usage_page(page, company_id)

    @sharing_page(ctx, "/sharing/statements", "sharing_statements")
    def statements_page(page: PageContext, request: Request) -> None:
        company_id = _company(page, request)
        if company_id is None:
            return
        months = recent_months(ledger.period_of(utcnow()))
        month = ui.select(months, value=months[0], label=page.t("sharing_month"))
        month.classes("w-48").props('id="statement-month"')

        @ui.refreshable
        def view() -> None:
            _statement_view(page, company_id, str(month.value))

        month.on_value_change(lambda _: view.refresh())
        view()
