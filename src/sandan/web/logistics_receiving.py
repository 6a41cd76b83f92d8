"""The receiving clerk's tablet page (/logistics/receiving): today's trucks and the open ASNs
of the warehouse, one ASN counted line by line (good and damaged units in big inputs), the
receipt confirmed, then where the receiving bin's goods should go, each putaway confirmed.

Every action is one service call in its own transaction, so the page obeys exactly the rules
of the API (only the warehouse operator works the floor; a full bin refuses with a reason)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.models import Appointment, Dock, Item
from sandan.logistics.schemas import AsnOut, ReceiveIn, ReceiveLineIn, StockLeg, Suggestion
from sandan.logistics.service import docks, inbound
from sandan.logistics.service import putaway as putaways
from sandan.logistics.timezone import local_day
from sandan.web.logistics_common import floor_page, local_hhmm, owner_names
from sandan.web.shell import PageContext, act

BIG = 'outlined input-class="text-2xl"'


def _skus(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(Item.id, Item.sku, Item.name).where(Item.id.in_(ids)))
    return {int(i): f"{sku} · {name}" for i, sku, name in rows}


def _open_asns(
    session: Session, principal: Principal, wid: int
) -> list[tuple[AsnOut, Appointment | None, str]]:
    """Open ASNs of the warehouse, the ones with a truck booked for today first."""
    today = {
        a.asn_id: a
        for a in docks.appointments(session, principal, day=local_day(utcnow()))
        if a.asn_id is not None and a.status == "booked" and a.direction == "inbound"
    }
    dock_codes = dict(
        session.execute(select(Dock.id, Dock.code).where(Dock.warehouse_id == wid)).tuples().all()
    )
    out = [
        (inbound.asn_out(session, asn), today.get(asn.id), "")
        for asn in inbound.list_asns(session, principal, status="open")
        if asn.warehouse_id == wid
    ]
    out = [(a, appt, dock_codes.get(appt.dock_id, "") if appt else "") for a, appt, _ in out]
    out.sort(key=lambda r: (r[1] is None, r[1].starts_at if r[1] else r[0].expected_at))
    return out


def _confirm_receipt(
    page: PageContext, wid: int, asn: AsnOut, appt_id: int | None, counts: list[Any]
) -> bool:
    lines = [
        ReceiveLineIn(
            asn_line_id=line.id,
            qty_good=max(0, int(good.value or 0)),
            qty_damaged=max(0, int(damaged.value or 0)),
        )
        for line, (good, damaged) in zip(asn.lines, counts, strict=True)
    ]
    body = ReceiveIn(warehouse_id=wid, asn_id=asn.id, appointment_id=appt_id, lines=lines)
    return act(page, lambda s, p: inbound.receive(s, p, body), "wms_received_ok") is not None


def _put(page: PageContext, chosen: list[Suggestion], after: Callable[[], object]) -> None:
    def work(session: Session, principal: Principal) -> int:
        for s in chosen:
            leg = StockLeg(**s.model_dump(exclude={"to_bin_code", "rule"}))
            putaways.move(session, principal, leg)
        return len(chosen)

    act(page, work, "wms_put_ok")
    after()


def _receiving_view(page: PageContext, wid: int) -> None:
    t = page.t
    state: dict[str, Any] = {"asn": None}

    @ui.refreshable
    def asns() -> None:
        with page.ctx.db.unit(page.principal) as session:
            rows = _open_asns(session, page.principal, wid)
            names = owner_names(session, (a.owner_company_id for a, _, _ in rows))
            skus = _skus(session, {line.item_id for a, _, _ in rows for line in a.lines})
        if not rows:
            ui.label(t("wms_no_asns")).props('id="wms-no-asns"')
        with ui.row().classes("gap-3 w-full"):
            for asn, appt, dock in rows:
                with ui.card().classes("w-80 wms-asn").props(f'id="asn-{asn.id}"'):
                    ui.label(asn.ref).classes("text-xl font-bold")
                    ui.label(f"{t('wms_owner')}: {names.get(asn.owner_company_id, '')}")
                    when = local_hhmm(appt.starts_at if appt else asn.expected_at)
                    ui.label(f"{t('wms_expected_at')}: {when}")
                    if appt is not None:
                        ui.label(f"{t('wms_dock')} {dock} · {t('wms_truck')} {appt.truck_plate}")
                    ui.button(
                        t("wms_pick"),
                        on_click=lambda a=asn, ap=appt: choose(a, ap),
                    ).props(f'id="asn-select-{asn.id}" size=lg no-caps')
        state["skus"] = skus

    def choose(asn: AsnOut, appt: Appointment | None) -> None:
        state["asn"], state["appt"] = asn, appt.id if appt else None
        count.refresh()

    @ui.refreshable
    def count() -> None:
        asn: AsnOut | None = state["asn"]
        if asn is None:
            return
        skus: dict[int, str] = state.get("skus", {})
        with ui.card().classes("w-full").props('id="wms-count"'):
            ui.label(asn.ref).classes("text-2xl font-bold")
            counts = []
            for i, line in enumerate(asn.lines):
                with ui.row().classes("items-center gap-4 w-full"):
                    ui.label(skus.get(line.item_id, str(line.item_id))).classes("text-lg w-72")
                    ui.label(f"{t('wms_expected')}: {line.qty_expected}").classes("text-lg w-32")
                    good = ui.number(t("wms_received"), value=line.qty_expected, min=0, format="%d")
                    damaged = ui.number(t("wms_damaged"), value=0, min=0, format="%d")
                    good.props(f'for="recv-good-{i}" {BIG}').classes("w-40")
                    damaged.props(f'for="recv-damaged-{i}" {BIG}').classes("w-40")
                    counts.append((good, damaged))

            def confirm() -> None:
                if _confirm_receipt(page, wid, asn, state.get("appt"), counts):
                    state["asn"] = None
                    count.refresh()
                    asns.refresh()
                    put.refresh()

            ui.button(t("wms_confirm_receipt"), on_click=confirm).props(
                'id="recv-confirm" size=xl color=positive no-caps'
            )

    @ui.refreshable
    def put() -> None:
        with page.ctx.db.unit(page.principal) as session:
            plan = putaways.suggest(session, page.principal, wid)
            skus = _skus(session, {s.item_id for s in plan})
            names = owner_names(session, (s.owner_company_id for s in plan))
        ui.label(t("wms_putaway")).classes("text-xl font-semibold mt-4")
        if not plan:
            ui.label(t("wms_no_putaway")).props('id="wms-no-putaway"')
            return
        doable = [s for s in plan if s.to_bin_id is not None]
        for i, s in enumerate(plan):
            with ui.row().classes("items-center gap-4 w-full wms-put").props(f'id="put-row-{i}"'):
                ui.label(s.to_bin_code or t("wms_no_room")).classes("text-2xl font-bold w-40")
                ui.label(skus.get(s.item_id, "")).classes("text-lg w-72")
                ui.label(f"{t('wms_qty')}: {s.qty}").classes("text-lg w-28")
                ui.label(names.get(s.owner_company_id, "")).classes("w-48")
                ui.label(s.rule).classes("text-slate-500")
                if s.to_bin_id is not None:
                    ui.button(
                        t("wms_confirm"), on_click=lambda one=s: _put(page, [one], put.refresh)
                    ).props(f'id="put-{i}" size=lg no-caps')
        if doable:
            ui.button(t("wms_confirm_all"), on_click=lambda: _put(page, doable, put.refresh)).props(
                'id="put-all" size=xl color=positive no-caps'
            )

    ui.label(t("wms_open_asns")).classes("text-xl font-semibold")
    asns()
    count()
    put()


def register(ctx: Context) -> None:
    @ui.page("/logistics/receiving")
    def receiving_page(request: Request) -> RedirectResponse | None:
        return floor_page(ctx, request, "wms_receiving", _receiving_view)
