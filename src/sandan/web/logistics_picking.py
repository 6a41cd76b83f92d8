"""The picker's tablet page (/logistics/picking): the released waves' pick lists in walking
order (zone, aisle, racks serpentine, levels bottom up), each line confirmed with the
quantity actually taken; fewer than asked is a short pick and gives the rest back."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Order, Wave
from sandan.logistics.schemas_out import PickIn, PickList
from sandan.logistics.service import picking
from sandan.web.logistics_common import floor_page, owner_names
from sandan.web.shell import PageContext, act


def _lists(session: Session, principal: Principal, wid: int) -> list[PickList]:
    """Pick lists of the warehouse's released waves that still have something to pick."""
    waves = session.scalars(
        select(Wave.id).where(Wave.warehouse_id == wid, Wave.status == "released").order_by(Wave.id)
    )
    lists = [picking.pick_list(session, principal, w) for w in waves]
    return [p for p in lists if p.tasks]


def _picking_view(page: PageContext, wid: int) -> None:
    t = page.t

    def confirm(reservation_id: int, qty: float | None) -> None:
        body = PickIn(reservation_id=reservation_id, qty=max(0, int(qty or 0)))
        if act(page, lambda s, p: picking.pick(s, p, body), "wms_picked_ok") is not None:
            lists.refresh()

    @ui.refreshable
    def lists() -> None:
        with page.ctx.db.unit(page.principal) as session:
            waves = _lists(session, page.principal, wid)
            order_ids = {task.order_id for w in waves for task in w.tasks}
            refs = dict(
                session.execute(select(Order.id, Order.ref).where(Order.id.in_(order_ids)))
                .tuples()
                .all()
            )
            names = owner_names(session, (x.owner_company_id for w in waves for x in w.tasks))
        if not waves:
            ui.label(t("wms_no_picks")).props('id="wms-no-picks"')
            return
        for wave in waves:
            ui.label(f"{t('wms_wave')} {wave.wave_id}").classes("text-xl font-semibold mt-2")
            for n, task in enumerate(wave.tasks, start=1):
                rid = task.reservation_id
                card = ui.card().classes("w-full wms-pick")
                card.props(f'id="pick-row-{rid}" data-bin="{task.bin_code}"')
                with card, ui.row().classes("items-center gap-6 w-full"):
                    ui.label(f"{n}.").classes("text-2xl text-slate-500")
                    ui.label(task.bin_code).classes("text-3xl font-bold w-40")
                    with ui.column().classes("gap-0 w-72"):
                        ui.label(task.sku).classes("text-xl font-semibold")
                        ui.label(f"{t('wms_lot')} {task.lot_code}").classes("text-slate-500")
                    with ui.column().classes("gap-0 w-48"):
                        ui.label(f"{t('wms_order')} {refs.get(task.order_id, '')}")
                        ui.label(names.get(task.owner_company_id, "")).classes("text-slate-500")
                    ui.label(f"{t('wms_to_pick')}: {task.qty}").classes("text-2xl w-40")
                    qty = ui.number(
                        t("wms_picked"), value=task.qty, min=0, max=task.qty, format="%d"
                    )
                    qty.props(f'for="pick-qty-{rid}" outlined input-class="text-2xl"').classes(
                        "w-36"
                    )
                    ui.button(
                        t("wms_confirm"),
                        on_click=lambda r=rid, q=qty: confirm(r, q.value),
                    ).props(f'id="pick-{rid}" size=xl color=positive no-caps')

    ui.label(t("wms_waves")).classes("text-xl font-semibold")
    lists()


def register(ctx: Context) -> None:
    @ui.page("/logistics/picking")
    def picking_page(request: Request) -> RedirectResponse | None:
        return floor_page(ctx, request, "wms_picking", _picking_view)
