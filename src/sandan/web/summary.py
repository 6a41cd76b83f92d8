"""A company's production and energy summary: units made and good, energy used and energy per
good unit, per production day and per machine, from the same analytics report as the OEE page
(one columnar query over the 1-minute rollups per view)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.analytics import service as analytics
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.telemetry.store import TelemetryStore
from sandan.web.oee import company_heading, pct, plan_of
from sandan.web.shell import header, to_login, viewer

WINDOWS = {"7d": timedelta(days=7), "30d": timedelta(days=30)}


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def register(ctx: Context, store: TelemetryStore) -> None:
    @ui.page("/companies/{company_id}/summary")
    def summary_page(request: Request, company_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, "Production")
        if not company_heading(page, company_id, "생산·에너지 요약", "Production and energy"):
            return None
        ko = page.lang == "ko"
        window = ui.toggle(
            {k: ("최근 " if ko else "Last ") + k for k in WINDOWS}, value="7d"
        ).props('id="summary-window"')
        cards: dict[str, ui.label] = {}
        with ui.row().classes("w-full gap-4"):
            for key, ko_name, en_name in (
                ("produced", "생산량", "Produced"),
                ("good", "양품", "Good"),
                ("kwh", "전력량 (kWh)", "Energy (kWh)"),
                ("kwh_per_good_unit", "양품당 kWh", "kWh per good unit"),
                ("oee", "OEE", "OEE"),
            ):
                with ui.card().classes("w-48"):
                    ui.label(ko_name if ko else en_name).classes("text-sm text-slate-600")
                    cards[key] = (
                        ui.label("…").classes("text-2xl font-bold").props(f'id="summary-{key}"')
                    )
        daily = (
            ui.echart(
                {
                    "tooltip": {"trigger": "axis"},
                    "legend": {"top": 0},
                    "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
                    "xAxis": {"type": "category", "data": []},
                    "yAxis": [
                        {"type": "value", "name": "개" if ko else "units"},
                        {"type": "value", "name": "kWh"},
                    ],
                    "series": [
                        {"type": "bar", "name": "양품" if ko else "Good", "stack": "u", "data": []},
                        {
                            "type": "bar",
                            "name": "불량" if ko else "Rejects",
                            "stack": "u",
                            "data": [],
                            "itemStyle": {"color": "#dc2626"},
                        },
                        {"type": "line", "name": "kWh", "yAxisIndex": 1, "data": []},
                    ],
                }
            )
            .classes("w-full h-72")
            .props('id="summary-daily-chart"')
        )
        columns = [
            {
                "name": "label",
                "label": "설비" if ko else "Machine",
                "field": "label",
                "align": "left",
            },
            {"name": "produced", "label": "생산량" if ko else "Produced", "field": "produced"},
            {"name": "good", "label": "양품" if ko else "Good", "field": "good"},
            {"name": "quality", "label": "품질" if ko else "Quality", "field": "quality"},
            {"name": "kwh", "label": "kWh", "field": "kwh"},
            {"name": "kwh_unit", "label": "kWh/양품" if ko else "kWh/good", "field": "kwh_unit"},
            {"name": "oee", "label": "OEE", "field": "oee"},
        ]
        table = (
            ui.table(columns=columns, rows=[], row_key="label")
            .classes("w-full")
            .props('id="summary-table" dense flat')
        )

        def report(group_by: str) -> dict[str, Any] | None:
            principal = page.still_allowed()
            if principal is None:
                return None
            end = utcnow()
            try:
                with ctx.db.unit(principal) as session:
                    return analytics.oee_report(
                        session,
                        principal,
                        store,
                        plan_of(ctx),
                        company_id=company_id,
                        start=end - WINDOWS[str(window.value)],
                        end=end,
                        group_by=group_by,  # type: ignore[arg-type]
                    )
            except SandanError as exc:
                ui.notify(str(exc), type="warning")
                return None

        def load() -> None:
            by_day = report("day")
            by_machine = report("machine")
            if by_day is None or by_machine is None:
                return
            total = by_day["total"]
            cards["produced"].set_text(_number(total["produced"]))
            cards["good"].set_text(_number(total["good"]))
            cards["kwh"].set_text(_number(total["kwh"], 1))
            cards["kwh_per_good_unit"].set_text(_number(total["kwh_per_good_unit"], 4))
            cards["oee"].set_text(pct(total["oee"]))
            days = by_day["groups"]
            daily.options["xAxis"]["data"] = [g["label"] for g in days]
            daily.options["series"][0]["data"] = [round(g["good"]) for g in days]
            daily.options["series"][1]["data"] = [round(g["rejects"]) for g in days]
            daily.options["series"][2]["data"] = [
                None if g["kwh"] is None else round(g["kwh"], 1) for g in days
            ]
            daily.update()
            table.rows = [
                {
                    "label": g["label"],
                    "produced": _number(g["produced"]),
                    "good": _number(g["good"]),
                    "quality": pct(g["quality"]) if g["produced"] else "–",
                    "kwh": _number(g["kwh"], 1),
                    "kwh_unit": _number(g["kwh_per_good_unit"], 4),
                    "oee": pct(g["oee"]),
                }
                for g in by_machine["groups"]
            ]
            table.update()

        window.on_value_change(lambda _: load())
        ui.timer(0.3, load, once=True)
        ui.timer(120.0, load)
        return None
