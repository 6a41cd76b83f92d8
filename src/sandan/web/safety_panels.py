"""The smaller cards of the control centre: water (night flow per DMA and leak suspicions),
traffic (signal plans and the last adaptive-versus-fixed comparison) and the alarm KPIs."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.errors import SandanError
from sandan.safety.alarms import report
from sandan.safety.traffic import service as traffic
from sandan.safety.water import service as water
from sandan.telemetry.store import TelemetryStore
from sandan.web.shell import PageContext


def _fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.1f}{unit}"


def water_panel(card: ui.card, page: PageContext, session: Session, store: TelemetryStore) -> None:
    t = page.t
    card.clear()
    with card:
        ui.label(t("safety_water")).classes("text-lg font-semibold")
        try:
            panel: dict[str, Any] = water.panel(session, page.principal, store)
        except SandanError as error:
            ui.label(error.message).classes("text-xs text-slate-500")
            return
        rows = [
            {
                "dma": d["code"],
                "night": _fmt(d.get("unexplained"), " m³/h"),
                "baseline": _fmt(d.get("baseline"), " m³/h"),
                "leak": t("safety_leak") if d.get("suspect") else "",
            }
            for d in panel.get("dmas", [])
        ]
        ui.table(
            columns=[
                {"name": "dma", "label": t("safety_dma"), "field": "dma", "align": "left"},
                {"name": "night", "label": t("safety_night_flow"), "field": "night"},
                {"name": "baseline", "label": t("safety_baseline"), "field": "baseline"},
                {"name": "leak", "label": "", "field": "leak"},
            ],
            rows=rows,
        ).props('dense flat id="water-panel"').classes("w-full")


def traffic_panel(card: ui.card, page: PageContext) -> None:
    t = page.t
    card.clear()
    with card:
        ui.label(t("safety_traffic")).classes("text-lg font-semibold")
        panel: dict[str, Any] = traffic.panel(page.ctx.settings)
        ui.label(f"{t('safety_signals')}: {panel.get('junctions', 0)}").props('id="traffic-panel"')
        last = panel.get("last")
        if not last:
            ui.label(t("safety_no_run")).classes("text-xs text-slate-500")
            return
        ui.label(f"{t('safety_delay_fixed')}: {_fmt(last.get('fixed_delay_s'), ' s')}")
        ui.label(f"{t('safety_delay_adaptive')}: {_fmt(last.get('adaptive_delay_s'), ' s')}")
        reduction = last.get("delay_reduction_pct")
        if reduction is not None:
            ui.label(f"−{reduction:.0f} %").classes("text-2xl font-bold text-green-700")


def kpi_panel(card: ui.card, page: PageContext, session: Session) -> None:
    """The last 24 hours against EEMUA 191: the rate per operator, floods, the worst sources."""
    t = page.t
    card.clear()
    with card:
        ui.label(t("safety_kpi")).classes("text-lg font-semibold")
        kpi = report.kpi_report(session, page.principal, None, None, 1)
        peak, target = kpi.per_operator_per_10min_peak, kpi.target_per_operator_per_10min
        ui.label(
            f"{t('safety_rate')}: {kpi.per_operator_per_10min_avg:.2f} "
            f"(max {peak:.0f}; ≤ {target:.0f})"
        ).props('id="kpi-rate"')
        flood = t("safety_yes") if kpi.floods else t("safety_no")
        ui.label(f"{t('safety_flood')}: {flood} ({len(kpi.floods)})")
        for actor in kpi.bad_actors[:5]:
            ui.label(f"{actor.source} · {actor.condition} · {actor.alarms}").classes("text-xs")
