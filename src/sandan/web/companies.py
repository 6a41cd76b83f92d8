"""Company pages: the list the viewer may see, and one company with its contacts and asset tree."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select

from sandan.core.context import Context
from sandan.core.errors import NotFound
from sandan.registry import service
from sandan.registry.models import Contact, Zone
from sandan.registry.validators import KSIC_DIVISIONS, format_brn, ksic_division
from sandan.web import svgmap
from sandan.web.shell import header, to_login, viewer


def _open_levels(nodes: list[dict[str, Any]]) -> list[str]:
    """Ids of sites, areas and lines, so the tree opens down to the machines."""
    found: list[str] = []
    for node in nodes:
        if node["level"] in ("site", "area", "line"):
            found.append(node["id"])
            found.extend(_open_levels(node["children"]))
    return found


def register(ctx: Context) -> None:
    @ui.page("/companies")
    def companies_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("companies"))
        with ctx.db.unit(page.principal) as session:
            zones = {z.id: z.code for z in session.scalars(service.zones_readable(page.principal))}
            rows = [
                {
                    "id": c.id,
                    "name": c.name,
                    "name_en": c.name_en,
                    "brn": format_brn(c.brn),
                    "ksic": c.ksic,
                    "zone": zones.get(c.zone_id, ""),
                    "employees": c.employees,
                }
                for c in session.scalars(service.list_companies_stmt(page.principal).limit(5000))
            ]
        columns: list[dict[str, object]] = [
            {
                "name": "name",
                "label": page.t("name"),
                "field": "name",
                "sortable": True,
                "align": "left",
            },
            {"name": "name_en", "label": "English", "field": "name_en", "align": "left"},
            {"name": "brn", "label": page.t("brn"), "field": "brn"},
            {"name": "ksic", "label": page.t("ksic"), "field": "ksic", "sortable": True},
            {"name": "zone", "label": page.t("zone"), "field": "zone", "sortable": True},
            {
                "name": "employees",
                "label": page.t("employees"),
                "field": "employees",
                "sortable": True,
            },
        ]
        table = (
            ui.table(columns=columns, rows=rows, row_key="id", pagination=25)
            .classes("w-full")
            .props('id="companies-table"')
        )
        table.add_slot(
            "body-cell-name",
            '<q-td :props="props"><a :href="\'/companies/\' + '
            'props.row.id" class="text-blue-700">{{ props.value }}</a></q-td>',
        )
        with table.add_slot("top-right"):
            ui.input(page.t("search")).bind_value_to(table, "filter").props("dense clearable")
        return None

    @ui.page("/companies/{company_id}")
    def company_page(request: Request, company_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("company"))
        try:
            with ctx.db.unit(page.principal) as session:
                company = service.get_company(session, page.principal, company_id)
                zone = session.get(Zone, company.zone_id)
                contacts = list(
                    session.scalars(
                        service.owned_readable(Contact, page.principal).where(
                            Contact.company_id == company.id
                        )
                    )
                )
                tree = service.asset_tree(session, page.principal, company.id)
                zone_rows = [
                    {
                        "code": z.code,
                        "boundary": z.boundary,
                        "label": z.name if page.lang == "ko" else z.name_en,
                    }
                    for z in session.scalars(select(Zone).where(Zone.id == company.zone_id))
                ]
        except NotFound:
            ui.label(page.t("not_found")).classes("text-xl text-red-700")
            return None
        title = company.name if page.lang == "ko" else (company.name_en or company.name)
        with ui.row().classes("items-center gap-4"):
            ui.label(title).classes("text-2xl font-bold").props('id="company-name"')
            ui.link(
                "실시간 설비 현황" if page.lang == "ko" else "Live machines",
                f"/companies/{company.id}/live",
            ).props('id="live-link"')
            ui.link(
                "설비종합효율 (OEE)" if page.lang == "ko" else "OEE and losses",
                f"/companies/{company.id}/oee",
            ).props('id="oee-link"')
            ui.link(
                "생산·에너지 요약" if page.lang == "ko" else "Production and energy",
                f"/companies/{company.id}/summary",
            ).props('id="summary-link"')
            ui.link(page.t("dq_link"), f"/companies/{company.id}/quality").props(
                'id="quality-link"'
            )
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.card().classes("w-1/3"):
                division = ksic_division(company.ksic)
                facts = [
                    (page.t("brn"), format_brn(company.brn)),
                    (page.t("ksic"), f"{company.ksic} · {KSIC_DIVISIONS.get(division, '')}"),
                    (
                        page.t("zone"),
                        zone.name if zone and page.lang == "ko" else (zone.name_en if zone else ""),
                    ),
                    (page.t("employees"), str(company.employees or "—")),
                    (page.t("address"), company.address or "—"),
                ]
                for label, value in facts:
                    with ui.row().classes("w-full no-wrap justify-between gap-4"):
                        ui.label(label).classes("text-slate-500 shrink-0")
                        ui.label(value).classes("font-medium text-right")
                ui.separator()
                ui.label(page.t("contacts")).classes("text-lg font-semibold")
                for c in contacts:
                    ui.label(f"{c.name} · {c.role} · {c.phone} · {c.email}").classes("text-sm")
                svg = svgmap.render(
                    zone_rows,
                    [
                        {
                            "id": company.id,
                            "name": company.name,
                            "ksic": company.ksic,
                            "footprint": company.footprint,
                        }
                    ],
                    width=400,
                    highlight=company.id,
                )
                if svg:
                    ui.html(svg, sanitize=False).classes("w-full mt-2")
            with ui.card().classes("grow"):
                ui.label(page.t("assets")).classes("text-lg font-semibold")
                nodes = [n.model_dump() for n in tree]
                asset_tree = ui.tree(nodes, label_key="label").props('id="asset-tree"')
                asset_tree.expand(_open_levels(nodes))
        return None
