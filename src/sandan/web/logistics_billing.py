"""The month's bill of one tenant (/logistics/billing): storage from the stock history,
handling per line, the total, the day-by-day pallets behind the storage line, and the same
invoice as CSV or PDF.

The warehouse operator picks any tenant; a tenant's admin sees only its own bill. Both the
list of tenants and the invoice come from the scoped billing service, so the page cannot
show what the API would refuse. The choice lives in the URL (?company=&period=), so a bill
is a link like any other."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.logistics.schemas_out import InvoiceOut
from sandan.logistics.service import billing
from sandan.logistics.timezone import local_day
from sandan.web.formats import krw, recent_months
from sandan.web.logistics_common import floor_page, owner_names
from sandan.web.shell import PageContext


def _choice(raw: str | None, allowed: list[int]) -> int | None:
    if len(allowed) == 1:
        return allowed[0]
    chosen = int(raw) if raw and raw.isdigit() else None
    return chosen if chosen in allowed else None


def _pickers(page: PageContext, request: Request, names: dict[int, str]) -> tuple[int | None, str]:
    """The tenant and month selects; changing either reloads the page with the new query."""
    months = recent_months(local_day(utcnow()).strftime("%Y-%m"))
    asked = request.query_params.get("period", "")
    period = asked if asked in months else months[0]
    company = _choice(request.query_params.get("company"), sorted(names))
    path = request.url.path

    def go(company_id: int | None, month: str) -> None:
        ui.navigate.to(f"{path}?company={company_id or ''}&period={month}")

    with ui.row().classes("gap-4 items-end"):
        tenant = ui.select(names, value=company, with_input=True, label=page.t("wms_tenant"))
        tenant.classes("w-80").props('for="bill-company"')
        month = ui.select(months, value=period, label=page.t("wms_month"))
        month.classes("w-40").props('id="bill-period"')
    tenant.on_value_change(lambda e: go(e.value, str(month.value)))
    month.on_value_change(lambda e: go(tenant.value, str(e.value)))
    return company, period


def _number(value: float) -> str:
    """12,345 or 1,234.5: no trailing zeros on m³-days."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _invoice(page: PageContext, bill: InvoiceOut) -> None:
    with ui.row().classes("gap-4"):
        with ui.card().classes("w-64"):
            ui.label(page.t("wms_total")).classes("text-sm text-slate-600")
            ui.label(krw(bill.total_krw, page.lang)).classes("text-3xl font-bold").props(
                'id="bill-total"'
            )
        with ui.card().classes("w-64"):
            ui.label(page.t("wms_basis")).classes("text-sm text-slate-600")
            ui.label(page.t(f"wms_basis_{bill.basis}")).classes("text-xl").props('id="bill-basis"')
    keys = ("item", "quantity", "rate", "amount")
    columns = [{"name": k, "label": page.t(f"wms_{k}"), "field": k, "align": "left"} for k in keys]
    rows = [
        {
            "key": line.kind,
            "item": page.t(f"wms_line_{line.kind}"),
            "quantity": f"{_number(line.quantity)} {page.t('wms_unit_' + line.unit)}",
            "rate": krw(line.rate_krw, page.lang),
            "amount": krw(line.amount_krw, page.lang),
        }
        for line in bill.lines
    ]
    ui.table(columns=columns, rows=rows, row_key="key").classes("w-full max-w-3xl").props(
        'id="bill-lines" dense flat'
    )
    base = f"/api/v1/logistics/invoices/{bill.owner_company_id}/{bill.period}"
    with ui.row().classes("gap-6"):
        ui.link(f"⬇ {page.t('wms_download_csv')}", f"{base}/csv").props('id="bill-csv" download')
        ui.link(f"⬇ {page.t('wms_download_pdf')}", f"{base}/pdf").props('id="bill-pdf" download')
    ui.label(page.t("wms_daily")).classes("text-lg font-semibold mt-4")
    unit = "m3" if bill.basis == "m3" else "pallets"
    ui.echart(
        {
            "animation": False,
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 50, "right": 20, "top": 20, "bottom": 30},
            "xAxis": {"type": "category", "data": [int(d["day"]) for d in bill.daily]},
            "yAxis": {"type": "value", "name": "m³" if unit == "m3" else page.t("wms_pallets")},
            "series": [{"type": "bar", "data": [d[unit] for d in bill.daily]}],
        }
    ).classes("w-full max-w-3xl h-64").props('id="bill-daily"')


def _billing(page: PageContext, request: Request) -> None:
    with page.ctx.db.unit(page.principal) as session:
        owners = billing.tenants(session, page.principal)
        names = owner_names(session, owners)
    if not names:
        ui.label(page.t("wms_no_tenants")).props('id="bill-no-tenants"')
        return
    company, period = _pickers(page, request, names)
    if company is None:
        ui.label(page.t("wms_pick_tenant")).classes("text-slate-600")
        return
    try:
        with page.ctx.db.unit(page.principal) as session:
            bill = billing.invoice(session, page.principal, company, period)
    except SandanError as exc:
        ui.label(str(exc)).classes("text-red-700").props('id="bill-error"')
        return
    _invoice(page, bill)


def register(ctx: Context) -> None:
    @ui.page("/logistics/billing")
    def billing_page(request: Request) -> RedirectResponse | None:
        return floor_page(
            ctx, request, "wms_billing", lambda page, _: _billing(page, request), tenants=True
        )
