"""What the warehouse clerk's pages share: the warehouse in view, the tenants' names, the
timezone and the page frame (a service call is run by shell.act)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc
from sandan.core.context import Context
from sandan.core.identity.roles import Scope
from sandan.logistics.service import layout
from sandan.logistics.timezone import SEOUL
from sandan.registry.models import Company
from sandan.web.shell import PageContext, header, to_login, viewer


def warehouse_id(session: Session, wanted: str | None) -> int | None:
    """The warehouse asked for by ?warehouse=, else the first one."""
    ids = [w.id for w in layout.warehouses(session)]
    if wanted and wanted.isdigit() and int(wanted) in ids:
        return int(wanted)
    return ids[0] if ids else None


def owner_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Company.id, Company.name).where(Company.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


def local_hhmm(moment: datetime | None) -> str:
    """The warehouse works on Seoul time; SQLite hands back naive UTC."""
    if moment is None:
        return "–"
    return as_utc(moment).astimezone(SEOUL).strftime("%H:%M")


def floor_page(
    ctx: Context,
    request: Request,
    title: str,
    view: Callable[[PageContext, int], None],
    tenants: bool = False,
) -> RedirectResponse | None:
    """The frame of a warehouse page: signed in, the warehouse operator (or, on the pages
    `tenants` may read, a tenant's admin), a warehouse to show."""
    page = viewer(ctx, request)
    if page is None:
        return to_login(request)
    header(page, page.t(title))
    ui.label(page.t(title)).classes("text-2xl font-bold")
    allowed = page.principal.has(Scope.warehouse_operate) or (
        tenants and page.principal.has(Scope.warehouse_order)
    )
    if not allowed:
        ui.label(page.t("wms_operator_only")).props('id="wms-denied"')
        return None
    with ctx.db.unit(page.principal) as session:
        wid = warehouse_id(session, request.query_params.get("warehouse"))
    if wid is None:
        ui.label(page.t("wms_no_warehouse")).props('id="wms-no-warehouse"')
        return None
    view(page, wid)
    return None
