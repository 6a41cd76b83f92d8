"""Stock by owner (/logistics/stock) and today's docks (/logistics/docks).

Both pages draw only what the scoped services return: the warehouse operator sees every
tenant's stock and trucks, a tenant's admin only its own (the filter is in the query)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.logistics.models import Dock
from sandan.logistics.service import docks, inventory
from sandan.logistics.timezone import local_day
from sandan.web.logistics_common import floor_page, local_hhmm, owner_names
from sandan.web.shell import PageContext


def _columns(page: PageContext, names: list[str]) -> list[dict[str, str]]:
    return [{"name": n, "label": page.t(f"wms_{n}"), "field": n, "align": "left"} for n in names]


def _table(page: PageContext, cols: list[str], rows: list[dict[str, Any]], id_: str) -> None:
    ui.table(columns=_columns(page, cols), rows=rows, row_key="key").classes("w-full").props(
        f'id="{id_}" dense flat no-data-label="–"'
    )


def _stock(page: PageContext) -> None:
    with page.ctx.db.unit(page.principal) as session:
        quants = inventory.stock(session, page.principal)
        names = owner_names(session, (q.owner_company_id for q in quants))
    if not quants:
        ui.label(page.t("wms_no_stock")).props('id="wms-no-stock"')
        return
    rows = [
        {
            "key": q.id,
            "owner": names.get(q.owner_company_id, ""),
            "sku": q.sku,
            "lot": q.lot_code,
            "bin": q.bin_code,
            "on_hand": q.on_hand,
            "reserved": q.reserved,
        }
        for q in quants
    ]
    _table(page, ["owner", "sku", "lot", "bin", "on_hand", "reserved"], rows, "wms-stock")


def _docks(page: PageContext, wid: int) -> None:
    with page.ctx.db.unit(page.principal) as session:
        booked = docks.appointments(session, page.principal, day=local_day(utcnow()))
        codes = dict(session.execute(select(Dock.id, Dock.code)).tuples().all())
        yard = docks.queue(session, page.principal, wid)
        names = owner_names(
            session, [a.owner_company_id for a in booked] + [v.owner_company_id for v in yard]
        )
    ui.label(page.t("wms_calendar")).classes("text-xl font-semibold")
    rows = [
        {
            "key": a.id,
            "time": f"{local_hhmm(a.starts_at)}–{local_hhmm(a.ends_at)}",
            "dock": codes.get(a.dock_id, ""),
            "truck": f"{a.truck_plate} ({a.truck_class})",
            "owner": names.get(a.owner_company_id, ""),
            "direction": page.t(f"wms_{a.direction}"),
            "status": page.t(f"wms_{a.status}"),
        }
        for a in booked
    ]
    _table(page, ["time", "dock", "truck", "owner", "direction", "status"], rows, "wms-calendar")
    ui.label(page.t("wms_yard")).classes("text-xl font-semibold mt-4")
    queue = [
        {
            "key": v.id,
            "time": local_hhmm(v.checked_in_at),
            "dock": v.dock_code or "",
            "truck": v.truck_plate,
            "owner": names.get(v.owner_company_id or 0, ""),
            "position": v.position,
        }
        for v in yard
    ]
    _table(page, ["position", "time", "truck", "dock", "owner"], queue, "wms-yard")


def register(ctx: Context) -> None:
    @ui.page("/logistics/stock")
    def stock_page(request: Request) -> RedirectResponse | None:
        return floor_page(ctx, request, "wms_stock", lambda page, _: _stock(page), tenants=True)

    @ui.page("/logistics/docks")
    def docks_page(request: Request) -> RedirectResponse | None:
        return floor_page(ctx, request, "wms_docks", _docks, tenants=True)
