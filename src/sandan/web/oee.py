"""A company's OEE page: ISO 22400 OEE by machine, line, day or shift with the six big losses,
the downtime events where an operator gives each stop its reason, and the power thresholds
of machines without a state tag (web/state_rules.py).

The figures come from the analytics report (summed elements, never averaged ratios); the
page only chooses the window and the grouping and draws them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.analytics import service as analytics
from sandan.analytics.shifts import ShiftPlan
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.errors import NotFound, SandanError
from sandan.core.pagination import PageParams
from sandan.registry import service as registry
from sandan.telemetry.store import TelemetryStore
from sandan.web.live import LOSS_NAMES_KO, STATE_NAMES
from sandan.web.shell import PageContext, header, to_login, viewer
from sandan.web.state_rules import StateRulesPanel

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
GROUPS = ("machine", "line", "day", "shift")
GROUP_NAMES = {
    "machine": ("설비별", "By machine"),
    "line": ("라인별", "By line"),
    "day": ("일별", "By day"),
    "shift": ("교대별", "By shift"),
}
LOSS_NAMES_EN = {k: k.replace("_", " ").capitalize() for k in LOSS_NAMES_KO}
LOSS_COLOURS = ["#b91c1c", "#2563eb", "#d97706", "#7c3aed", "#db2777", "#0d9488"]


def company_title(page: PageContext, company_id: int) -> str:
    """The company's name in the viewer's language (NotFound when not theirs to see)."""
    with page.ctx.db.unit(page.principal) as session:
        company = registry.get_company(session, page.principal, company_id)
        return company.name if page.lang == "ko" else (company.name_en or company.name)


def company_heading(page: PageContext, company_id: int, title_ko: str, title_en: str) -> bool:
    """The company's name and the page's title, or a "not found" line when the company is not
    the viewer's to see (then the page stops there)."""
    try:
        name = company_title(page, company_id)
    except NotFound:
        ui.label(page.t("not_found")).classes("text-xl text-red-700")
        return False
    title = title_ko if page.lang == "ko" else title_en
    ui.label(f"{name} · {title}").classes("text-2xl font-bold")
    return True


def plan_of(ctx: Context) -> ShiftPlan:
    return ShiftPlan.parse(ctx.settings.shifts, ctx.settings.plant_timezone)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def register(ctx: Context, store: TelemetryStore) -> None:
    @ui.page("/companies/{company_id}/oee")
    def oee_page(request: Request, company_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, "OEE")
        if not company_heading(
            page, company_id, "설비종합효율 (OEE)", "Overall equipment effectiveness"
        ):
            return None
        ko = page.lang == "ko"
        losses_named = LOSS_NAMES_KO if ko else LOSS_NAMES_EN
        with ui.row().classes("items-center gap-4"):
            window = ui.toggle(
                {k: ("최근 " if ko else "Last ") + k for k in WINDOWS}, value="24h"
            ).props('id="oee-window"')
            group = ui.toggle(
                {k: GROUP_NAMES[k][0 if ko else 1] for k in GROUPS}, value="machine"
            ).props('id="oee-group"')
        with ui.row().classes("w-full gap-4"):
            cards = {}
            for key, ko_name, en_name in (
                ("oee", "OEE", "OEE"),
                ("availability", "가동률", "Availability"),
                ("performance", "성능", "Performance"),
                ("quality", "품질", "Quality"),
            ):
                with ui.card().classes("w-48"):
                    ui.label(ko_name if ko else en_name).classes("text-sm text-slate-600")
                    cards[key] = (
                        ui.label("…").classes("text-3xl font-bold").props(f'id="oee-{key}"')
                    )
        groups_chart = (
            ui.echart(
                {
                    "tooltip": {"trigger": "axis"},
                    "legend": {"top": 0},
                    "grid": {"left": 50, "right": 20, "top": 40, "bottom": 70},
                    "xAxis": {"type": "category", "data": [], "axisLabel": {"rotate": 30}},
                    "yAxis": {"type": "value", "max": 100, "name": "%"},
                    "series": [
                        {"type": "bar", "name": "OEE", "data": []},
                        {"type": "line", "name": "가동률" if ko else "Availability", "data": []},
                        {"type": "line", "name": "성능" if ko else "Performance", "data": []},
                        {"type": "line", "name": "품질" if ko else "Quality", "data": []},
                    ],
                }
            )
            .classes("w-full h-72")
            .props('id="oee-groups-chart"')
        )
        ui.label("6대 손실 (시간)" if ko else "Six big losses (hours)").classes(
            "text-lg font-semibold"
        )
        losses_chart = (
            ui.echart(
                {
                    "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
                    "legend": {"top": 0},
                    "grid": {"left": 50, "right": 20, "top": 50, "bottom": 70},
                    "xAxis": {"type": "category", "data": [], "axisLabel": {"rotate": 30}},
                    "yAxis": {"type": "value", "name": "h"},
                    "series": [
                        {
                            "type": "bar",
                            "stack": "losses",
                            "name": losses_named[k],
                            "data": [],
                            "itemStyle": {"color": LOSS_COLOURS[i]},
                        }
                        for i, k in enumerate(LOSS_NAMES_KO)
                    ],
                }
            )
            .classes("w-full h-72")
            .props('id="oee-losses-chart"')
        )
        columns = [
            {
                "name": "label",
                "label": "구분" if ko else "Group",
                "field": "label",
                "align": "left",
            },
            {"name": "oee", "label": "OEE", "field": "oee"},
            {"name": "a", "label": "가동률" if ko else "Avail.", "field": "a"},
            {"name": "p", "label": "성능" if ko else "Perf.", "field": "p"},
            {"name": "q", "label": "품질" if ko else "Quality", "field": "q"},
            {"name": "good", "label": "양품" if ko else "Good", "field": "good"},
            {"name": "kwh", "label": "kWh", "field": "kwh"},
            {"name": "kwh_unit", "label": "kWh/양품" if ko else "kWh/good", "field": "kwh_unit"},
        ]
        table = (
            ui.table(columns=columns, rows=[], row_key="label")
            .classes("w-full")
            .props('id="oee-table" dense flat')
        )
        downtime = DowntimePanel(page, store, company_id)
        rules = StateRulesPanel(page, company_id, lambda: reload())

        def load() -> None:
            principal = page.still_allowed()
            if principal is None:
                return
            end = utcnow()
            start = end - WINDOWS[str(window.value)]
            try:
                with ctx.db.unit(principal) as session:
                    report = analytics.oee_report(
                        session,
                        principal,
                        store,
                        plan_of(ctx),
                        company_id=company_id,
                        start=start,
                        end=end,
                        group_by=str(group.value),  # type: ignore[arg-type]
                    )
            except SandanError as exc:
                ui.notify(str(exc), type="warning")
                return
            total = report["total"]
            for key, label in cards.items():
                label.set_text(pct(total[key]))
            groups = report["groups"]
            labels = [g["label"] for g in groups]
            groups_chart.options["xAxis"]["data"] = labels
            for series, key in zip(
                groups_chart.options["series"],
                ("oee", "availability", "performance", "quality"),
                strict=True,
            ):
                series["data"] = [round(g[key] * 100, 1) for g in groups]
            groups_chart.update()
            losses_chart.options["xAxis"]["data"] = labels
            for series, key in zip(losses_chart.options["series"], LOSS_NAMES_KO, strict=True):
                series["data"] = [round(g["losses"].get(key, 0.0) / 3600, 2) for g in groups]
            losses_chart.update()
            table.rows = [_row(g) for g in [*groups, {**total, "label": "합계" if ko else "Total"}]]
            table.update()

        def reload() -> None:
            load()
            downtime.load(WINDOWS[str(window.value)])

        window.on_value_change(lambda _: reload())
        group.on_value_change(lambda _: load())
        ui.timer(0.3, load, once=True)
        ui.timer(0.6, lambda: downtime.load(WINDOWS[str(window.value)]), once=True)
        ui.timer(0.9, rules.load, once=True)
        ui.timer(60.0, load)
        return None


def _row(g: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": g["label"],
        "oee": pct(g["oee"]),
        "a": pct(g["availability"]),
        "p": pct(g["performance"]),
        "q": pct(g["quality"]),
        "good": f"{g['good']:,.0f}",
        "kwh": "–" if g["kwh"] is None else f"{g['kwh']:,.1f}",
        "kwh_unit": "–" if g["kwh_per_good_unit"] is None else f"{g['kwh_per_good_unit']:.4f}",
    }


class DowntimePanel:
    """The company's stops in the window, longest reasons first, each with a reason to give."""

    def __init__(self, page: PageContext, store: TelemetryStore, company_id: int) -> None:
        self.page, self.store, self.company_id = page, store, company_id
        ko = page.lang == "ko"
        reasons = analytics.downtime_reasons()
        self.reason_options = {r["code"]: r["label_ko"] if ko else r["label"] for r in reasons}
        ui.label("비가동 내역" if ko else "Downtime").classes("text-lg font-semibold")
        self.pareto = (
            ui.echart(
                {
                    "grid": {"left": 170, "right": 30, "top": 10, "bottom": 20},
                    "xAxis": {"type": "value", "name": "min"},
                    "yAxis": {"type": "category", "inverse": True, "data": []},
                    "series": [{"type": "bar", "data": [], "itemStyle": {"color": "#b91c1c"}}],
                }
            )
            .classes("w-full h-48")
            .props('id="downtime-pareto"')
        )
        self.list = ui.column().classes("w-full gap-1").props('id="downtime-list"')

    def load(self, span: timedelta) -> None:
        page = self.page
        principal = page.still_allowed()
        if principal is None:
            return
        ko = page.lang == "ko"
        end = utcnow()
        try:
            with page.ctx.db.unit(principal) as session:
                answer = analytics.downtime_events(
                    session,
                    principal,
                    self.store,
                    timedelta(minutes=5),
                    PageParams(limit=20, offset=0),
                    company_id=self.company_id,
                    start=end - min(span, timedelta(days=7)),
                    end=end,
                )
        except SandanError as exc:
            ui.notify(str(exc), type="warning")
            return
        totals = answer["by_reason"]
        unassigned = "미지정" if ko else "No reason yet"
        self.pareto.options["yAxis"]["data"] = [
            f"{self._state(t['state'])} · {self.reason_options.get(t['reason'], unassigned)}"
            for t in totals[:8]
        ]
        self.pareto.options["series"][0]["data"] = [round(t["seconds"] / 60, 1) for t in totals[:8]]
        self.pareto.update()
        self.list.clear()
        with self.list:
            if not answer["items"]:
                ui.label("비가동 없음" if ko else "No stops in this window.")
            for event in answer["items"]:
                self._event_row(event)

    def _state(self, state: int) -> str:
        ko_name, en_name, _ = STATE_NAMES.get(state, (str(state), str(state), ""))
        return ko_name if self.page.lang == "ko" else en_name

    def _event_row(self, event: dict[str, Any]) -> None:
        ko = self.page.lang == "ko"
        with ui.row().classes("w-full items-center gap-3 downtime-event"):
            started = event["started_at"].astimezone(plan_of(self.page.ctx).zone)
            ui.label(started.strftime("%m-%d %H:%M")).classes("w-28 text-sm")
            ui.label(event["machine_label"]).classes("w-56 text-sm")
            ui.badge(self._state(event["state"])).props(
                "color=red-7" if event["state"] == 3 else "color=amber-8"
            )
            ui.label(f"{event['duration_s'] / 60:,.0f} min").classes("w-20 text-sm")
            choice = ui.select(
                self.reason_options,
                value=event["reason"],
                label="사유" if ko else "Reason",
            ).classes("w-56 downtime-reason")
            note = ui.input("메모" if ko else "Note", value=event["note"]).classes("w-56")

            def save(event_id: int = event["id"]) -> None:
                principal = self.page.still_allowed()
                if principal is None:
                    return
                try:
                    with self.page.ctx.db.unit(principal) as session:
                        analytics.give_downtime_reason(
                            session,
                            principal,
                            event_id,
                            {"reason": choice.value, "note": note.value or ""},
                        )
                except SandanError as exc:
                    ui.notify(str(exc), type="negative")
                    return
                ui.notify("저장했습니다" if ko else "Saved", type="positive")

            ui.button("저장" if ko else "Save", on_click=save).props("dense no-caps").classes(
                "downtime-save"
            )
