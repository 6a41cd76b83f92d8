"""The complex overview: an offline map of zones and footprints, with counts per zone
and industry."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.core.context import Context
from sandan.registry import service
from sandan.registry.validators import KSIC_DIVISIONS
from sandan.web import svgmap
from sandan.web.i18n import division_name
from sandan.web.shell import header, to_login, viewer


def register(ctx: Context) -> None:
    @ui.page("/")
    def overview_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        with ctx.db.unit(page.principal) as session:
            data = service.overview(session, page.principal)
        header(page, page.t("overview"))
        if data.complex is None:
            ui.label(page.t("no_map"))
            return None
        name = (
            data.complex.name if page.lang == "ko" else (data.complex.name_en or data.complex.name)
        )
        ui.label(name).classes("text-2xl font-bold")
        zones = [
            {
                "code": z.code,
                "boundary": z.boundary,
                "label": z.name if page.lang == "ko" else (z.name_en or z.name),
            }
            for z in data.zones
        ]
        zone_names = {z["code"]: z["label"] for z in zones}  # in the page's language
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.card().classes("grow min-w-0"):
                ui.label(page.t("map")).classes("text-lg font-semibold")
                svg = svgmap.render(zones, data.footprints)
                if svg:
                    ui.html(svg, sanitize=False).classes("w-full")
                    with (
                        ui.row()
                        .classes("gap-3 mt-2 text-xs text-slate-600")
                        .props('id="map-legend"')
                    ):
                        for code, colour in svgmap.DIVISION_COLOURS.items():
                            with ui.row().classes("items-center gap-1"):
                                ui.element("span").style(
                                    f"display:inline-block;width:12px;height:12px;"
                                    f"background:{colour};border-radius:2px"
                                )
                                name = division_name(code, KSIC_DIVISIONS[code], page.lang)
                                ui.label(f"{code} {name}")
                else:
                    ui.label(page.t("no_map"))
            with ui.column().classes("w-96 shrink-0 gap-4"):
                with ui.card().classes("w-full"):
                    ui.label(page.t("total_companies")).classes("text-sm text-slate-500")
                    ui.label(str(data.companies_total)).classes("text-4xl font-bold").props(
                        'id="companies-total"'
                    )
                with ui.card().classes("w-full"):
                    ui.label(page.t("zones")).classes("text-lg font-semibold")
                    ui.table(
                        columns=[
                            {"name": "zone", "label": "", "field": "zone", "align": "left"},
                            {"name": "count", "label": "#", "field": "count"},
                        ],
                        rows=[
                            {"zone": zone_names.get(r.key, r.label), "count": r.count}
                            for r in data.by_zone
                        ],
                    ).classes("w-full").props('dense flat id="zone-counts"')
                with ui.card().classes("w-full"):
                    ui.label(page.t("industries")).classes("text-lg font-semibold")
                    ui.echart(
                        {
                            "grid": {"left": 156, "right": 20, "top": 10, "bottom": 20},
                            "xAxis": {"type": "value"},
                            "yAxis": {
                                "type": "category",
                                "inverse": True,
                                "data": [
                                    f"{r.key} {division_name(r.key, r.label, page.lang)}"
                                    for r in data.by_industry
                                ],
                                "axisLabel": {"width": 140, "overflow": "truncate"},
                            },
                            "series": [
                                {
                                    "type": "bar",
                                    "data": [r.count for r in data.by_industry],
                                    "itemStyle": {"color": "#2563eb"},
                                }
                            ],
                        }
                    ).classes("w-full h-72")
        return None
