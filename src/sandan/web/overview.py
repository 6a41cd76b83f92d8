"""The complex overview: an offline map of zones and footprints, with counts per zone
and industry."""

from __future__ import annotations

from collections import Counter

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.analytics import service as analytics
from sandan.core.context import Context
from sandan.registry import service
from sandan.registry.validators import KSIC_DIVISIONS
from sandan.telemetry.store import TelemetryStore
from sandan.web import svgmap
from sandan.web.i18n import division_name
from sandan.web.shell import header, to_login, viewer

STATE_LABELS = (
    (1, ("가동", "running")),
    (2, ("대기", "idle")),
    (3, ("고장", "down")),
    (4, ("품종교체", "changeover")),
    (0, ("계획정지", "planned stop")),
)
LIVE_LEGEND = (
    ("#16a34a", ("가동 80% 이상", "80 % or more running")),
    ("#f59e0b", ("50–80%", "50–80 %")),
    ("#dc2626", ("50% 미만", "under 50 %")),
    ("#94a3b8", ("자료 없음", "no data")),
)


def register(ctx: Context, store: TelemetryStore) -> None:
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
        ko = page.lang == "ko"
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.card().classes("grow min-w-0"):
                with ui.row().classes("w-full items-center justify-between"):
                    ui.label(page.t("map")).classes("text-lg font-semibold")
                    mode = ui.toggle(
                        {
                            "industry": "업종" if ko else "Industry",
                            "live": "가동 현황" if ko else "Live status",
                        },
                        value="industry",
                    ).props('id="map-mode" dense')
                svg = svgmap.render(zones, data.footprints)
                if svg:
                    map_html = ui.html(svg, sanitize=False).classes("w-full")
                    with ui.row().classes("gap-3 mt-2 text-xs text-slate-600") as live_legend:
                        for colour, text in LIVE_LEGEND:
                            with ui.row().classes("items-center gap-1"):
                                ui.element("span").style(
                                    f"display:inline-block;width:12px;height:12px;"
                                    f"background:{colour};border-radius:2px"
                                )
                                ui.label(text[0] if ko else text[1])
                    live_legend.set_visibility(False)
                    with (
                        ui.row()
                        .classes("gap-3 mt-2 text-xs text-slate-600")
                        .props('id="map-legend"') as industry_legend
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
                    ui.label("실시간 설비 가동" if ko else "Machines now").classes(
                        "text-sm text-slate-500"
                    )
                    live_status = (
                        ui.label("…").classes("text-lg font-medium").props('id="live-status"')
                    )
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

        def fills(states: dict[int, dict[int, int]]) -> list[dict[str, object]]:
            out = []
            for company in data.footprints:
                per = states.get(company["id"], {})
                total = sum(per.values())
                share = per.get(1, 0) / total if total else None
                colour = (
                    "#94a3b8"
                    if share is None
                    else ("#16a34a" if share >= 0.8 else "#f59e0b" if share >= 0.5 else "#dc2626")
                )
                out.append({**company, "fill": colour})
            return out

        def refresh_live() -> None:
            principal = page.still_allowed()
            if principal is None:
                return
            with ctx.db.unit(principal) as session:
                states = analytics.machine_states(session, principal, store)
            totals: Counter[int] = Counter()
            for per in states.values():
                totals.update(per)
            live_status.set_text(
                " · ".join(
                    f"{names[0] if ko else names[1]} {totals.get(code, 0)}"
                    for code, names in STATE_LABELS
                )
            )
            if svg and mode.value == "live":
                map_html.set_content(svgmap.render(zones, fills(states)))

        def on_mode() -> None:
            if not svg:
                return
            live = mode.value == "live"
            live_legend.set_visibility(live)
            industry_legend.set_visibility(not live)
            if not live:
                map_html.set_content(svg)
            refresh_live()

        mode.on_value_change(lambda _event: on_mode())
        refresh_live()
        ui.timer(5.0, refresh_live)
        return None
