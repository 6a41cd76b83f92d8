"""A company's live machine dashboard: machine states, power and output, refreshed every two
seconds from the latest values (a machine without a state tag takes its state from its latest
power through its state rule); power of the last half hour from the 1-minute rollups."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.analytics import service as oee_service
from sandan.analytics.service import OUTPUT_TAGS
from sandan.core.context import Context
from sandan.core.errors import NotFound
from sandan.registry import service as registry
from sandan.registry.models import Asset, Tag
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import TelemetryStore
from sandan.web.shell import PageContext, header, to_login, viewer

STATE_NAMES = {
    0: ("계획정지", "Planned stop", "grey-6"),
    1: ("가동", "Running", "green-7"),
    2: ("대기", "Idle", "amber-8"),
    3: ("고장", "Down", "red-7"),
    4: ("품종교체", "Changeover", "blue-7"),
}
LOSS_NAMES_KO = {
    "equipment_failure": "설비 고장",
    "setup_and_adjustment": "작업 준비·조정",
    "idling_and_minor_stops": "공회전·순간 정지",
    "reduced_speed": "속도 저하",
    "process_defects": "공정 불량",
    "reduced_yield": "초기 수율 저하",
}


def _machines(page: PageContext, company_id: int) -> tuple[str, list[dict[str, Any]]]:
    """The company's machines with the ids of their state, power and output tags, and the
    state rule of those whose state comes from power."""
    with page.ctx.db.unit(page.principal) as session:
        company = registry.get_company(session, page.principal, company_id)
        machines = session.scalars(
            registry.owned_readable(Asset, page.principal)
            .where(Asset.company_id == company.id, Asset.level == "machine")
            .order_by(Asset.site_id, Asset.parent_id, Asset.code)
        ).all()
        tags = session.scalars(
            registry.owned_readable(Tag, page.principal).where(
                Tag.company_id == company.id,
                Tag.name.in_(("state", "power", *OUTPUT_TAGS)),
            )
        ).all()
        name = company.name if page.lang == "ko" else (company.name_en or company.name)
        rules = oee_service.rules_for(session, page.principal, [m.id for m in machines])
    by_machine: dict[int, dict[str, Any]] = defaultdict(dict)
    for tag in tags:
        if tag.machine_id is not None:
            role = "output" if tag.name in OUTPUT_TAGS else tag.name
            by_machine[tag.machine_id][role] = tag.id
    for machine_id, rule in rules.items():
        roles = by_machine[machine_id]
        if "power" in roles and "state" not in roles:
            roles["rule"] = rule
    return name, [
        {"id": m.id, "label": f"{m.code} · {m.name}", **by_machine.get(m.id, {})} for m in machines
    ]


def register(ctx: Context, store: TelemetryStore) -> None:
    @ui.page("/companies/{company_id}/live")
    def live_page(request: Request, company_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, "Live")
        try:
            name, machines = _machines(page, company_id)
        except NotFound:
            ui.label(page.t("not_found")).classes("text-xl text-red-700")
            return None
        ko = page.lang == "ko"
        ui.label(f"{name} · {'실시간 설비 현황' if ko else 'Live machines'}").classes(
            "text-2xl font-bold"
        )
        summary = ui.label().classes("text-lg").props('id="live-summary"')
        chart = (
            ui.echart(
                {
                    "tooltip": {"trigger": "axis"},
                    "xAxis": {"type": "time"},
                    "yAxis": {"type": "value", "name": "kW"},
                    "series": [{"type": "line", "name": "kW", "showSymbol": False, "data": []}],
                    "grid": {"left": 50, "right": 20, "top": 30, "bottom": 30},
                }
            )
            .classes("w-full h-64")
            .props('id="power-chart"')
        )
        with ui.row().classes("w-full no-wrap gap-4 items-stretch"):
            with ui.card().classes("w-80"):
                ui.label("OEE (ISO 22400) · " + ("최근 1시간" if ko else "last hour")).classes(
                    "text-lg font-semibold"
                )
                oee_label = ui.label("…").classes("text-4xl font-bold").props('id="oee-value"')
                oee_parts = ui.label("").classes("text-sm text-slate-600")
            losses_chart = (
                ui.echart(
                    {
                        "grid": {"left": 170, "right": 30, "top": 10, "bottom": 20},
                        "xAxis": {"type": "value", "name": "min"},
                        "yAxis": {"type": "category", "inverse": True, "data": []},
                        "series": [{"type": "bar", "data": [], "itemStyle": {"color": "#dc2626"}}],
                    }
                )
                .classes("grow h-48")
                .props('id="losses-chart"')
            )
        cards: dict[int, tuple[ui.badge, ui.label]] = {}
        with ui.row().classes("w-full gap-2").props('id="machine-grid"'):
            for machine in machines:
                with ui.card().classes("w-56 p-2"):
                    ui.label(machine["label"]).classes("font-medium text-sm")
                    sensor = "state" not in machine and "rule" not in machine
                    badge = ui.badge(("센서" if ko else "Sensor") if sensor else "…").classes(
                        "" if sensor else "machine-state"
                    )
                    if sensor:
                        badge.props("color=blue-grey-5")
                    if "rule" in machine:
                        badge.classes("power-state").tooltip(
                            "전력 기준 상태" if ko else "State from power thresholds"
                        )
                    figures = ui.label("").classes("text-xs text-slate-600")
                    cards[machine["id"]] = (badge, figures)

        def refresh() -> None:
            principal = page.still_allowed()
            if principal is None:
                return
            ids = [m[k] for m in machines for k in ("state", "power", "output") if k in m]
            with ctx.db.unit(principal) as session:
                latest = {
                    r["tag_id"]: r["value"]
                    for r in telemetry.latest(session, principal, store, ids)
                }
            counts: dict[int, int] = defaultdict(int)
            total_kw = 0.0
            for machine in machines:
                state = latest.get(machine.get("state", -1))
                power = latest.get(machine.get("power", -1))
                if "rule" in machine and power is not None:
                    state = machine["rule"].state(power)
                output = latest.get(machine.get("output", -1))
                badge, figures = cards[machine["id"]]
                if state is not None:
                    ko_name, en_name, colour = STATE_NAMES.get(int(state), ("?", "?", "grey"))
                    badge.set_text(ko_name if ko else en_name)
                    badge.props(f"color={colour}")
                    counts[int(state)] += 1
                total_kw += power or 0.0
                parts = [
                    f"{power:.1f} kW" if power is not None else "",
                    f"{int(output):,} pcs" if output is not None else "",
                ]
                figures.set_text(" · ".join(p for p in parts if p))
            running = counts.get(1, 0)
            summary.set_text(
                f"가동 {running} / {len(machines)}대 · 전력 {total_kw:,.1f} kW"
                if ko
                else f"Running {running} of {len(machines)} · power {total_kw:,.1f} kW"
            )

        def refresh_chart() -> None:
            principal = page.still_allowed()
            power_ids = [m["power"] for m in machines if "power" in m]
            if principal is None or not power_ids:
                return
            end = datetime.now(UTC)
            with ctx.db.unit(principal) as session:
                rows = telemetry.rollups(
                    session, principal, store, power_ids, end - timedelta(minutes=30), end, "1m"
                )
            per_minute: dict[datetime, float] = defaultdict(float)
            for row in rows:
                per_minute[row["bucket"]] += row["avg"] or 0.0
            chart.options["series"][0]["data"] = [
                [b.replace(tzinfo=UTC).isoformat(), round(v, 1)]
                for b, v in sorted(per_minute.items())
            ]
            chart.update()

        def refresh_oee() -> None:
            principal = page.still_allowed()
            if principal is None:
                return
            end = datetime.now(UTC)
            totals: dict[str, float] = defaultdict(float)
            planned = running = counted_running = effective = produced = good = 0.0
            with ctx.db.unit(principal) as session:
                for machine in machines:
                    if "state" not in machine and "rule" not in machine:
                        continue
                    o = oee_service.machine_oee(
                        session, principal, store, machine["id"], end - timedelta(hours=1), end
                    )
                    planned += o["planned_busy_time"]
                    running += o["actual_production_time"]
                    if o["ideal_cycle_s"]:  # machines without an output counter: no speed
                        counted_running += o["actual_production_time"]
                        effective += o["ideal_cycle_s"] * o["produced_quantity"]
                    produced += o["produced_quantity"]
                    good += o["good_quantity"]
                    for name, seconds in o["losses"].items():
                        totals[name] += seconds
            a = running / planned if planned else 0.0
            p = effective / counted_running if counted_running else 0.0
            q = good / produced if produced else 0.0
            oee_label.set_text(f"{a * p * q:.1%}")
            oee_parts.set_text(
                f"가동률 {a:.1%} · 성능 {p:.1%} · 품질 {q:.1%}"
                if ko
                else f"availability {a:.1%} · performance {p:.1%} · quality {q:.1%}"
            )
            names = LOSS_NAMES_KO if ko else {k: k.replace("_", " ") for k in LOSS_NAMES_KO}
            losses_chart.options["yAxis"]["data"] = [names[k] for k in LOSS_NAMES_KO]
            losses_chart.options["series"][0]["data"] = [
                round(totals.get(k, 0.0) / 60, 1) for k in LOSS_NAMES_KO
            ]
            losses_chart.update()

        refresh()
        refresh_chart()
        ui.timer(0.5, refresh_oee, once=True)
        ui.timer(2.0, refresh)
        ui.timer(10.0, refresh_chart)
        ui.timer(15.0, refresh_oee)
        return None
