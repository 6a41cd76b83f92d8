"""The integrated control centre: a live map with alarms, incidents, shelters and evacuation
routes; the alarm list with acknowledge, shelve and open-incident; the incident board; the
water and traffic panels and the alarm KPIs. New alarms pop up as in-app alerts: the page
watches this process's alert hub every second and redraws only when something happened."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from sandan.core.context import Context
from sandan.core.identity.roles import Resource
from sandan.registry import service as registry
from sandan.safety import board as control
from sandan.safety.alarms import service as alarms
from sandan.safety.incidents import service as incidents
from sandan.safety.incidents.schemas import IncidentIn
from sandan.safety.live import AlertHub
from sandan.telemetry.store import TelemetryStore
from sandan.web import svgmap
from sandan.web.safety_panels import kpi_panel, traffic_panel, water_panel
from sandan.web.shell import PageContext, acted, header, to_login, viewer

PRIORITY_COLOURS = {
    "critical": "#b91c1c",
    "high": "#ea580c",
    "medium": "#ca8a04",
    "low": "#2563eb",
}
INCIDENT_KIND = {"gas": "gas", "fire": "fire", "chemical": "chemical", "water": "water"}
STATUS_COLUMNS = ("active", "stable", "closed")


def overlays(b: control.Board) -> list[svgmap.Overlay]:
    """Routes under shelters under incident areas under alarms (the most urgent on top)."""
    drawn: list[svgmap.Overlay] = []
    for r in b.routes:
        drawn.append(
            svgmap.Overlay(
                "line",
                tuple((p[1], p[0]) for p in r["points"]),
                "#16a34a",
                title=r["name"],
                css_class="evacuation-route",
            )
        )
    for s in b.shelters:
        drawn.append(
            svgmap.Overlay(
                "point", ((s["lon"], s["lat"]),), "#15803d", title=s["name"], css_class="shelter"
            )
        )
    for i in b.incidents:
        if i["status"] != "closed":
            drawn.append(
                svgmap.Overlay(
                    "circle",
                    ((i["lon"], i["lat"]),),
                    "#7c3aed",
                    title=i["title"],
                    css_class="incident-area",
                    radius_m=i["radius_m"],
                    href=f"/safety/incidents/{i['id']}",
                )
            )
    for a in reversed(b.alarms):
        if a.get("lat") is None or a.get("lon") is None:
            continue
        unack = a["state"] in ("unacknowledged", "rtn_unacknowledged")
        drawn.append(
            svgmap.Overlay(
                "point",
                ((a["lon"], a["lat"]),),
                PRIORITY_COLOURS.get(a["priority"], "#64748b"),
                title=a["message"],
                css_class="alarm-marker blink" if unack else "alarm-marker",
                size=10.0 if unack else 8.0,
                attrs=(("data-alarm", str(a["id"])), ("data-state", a["state"])),
            )
        )
    return drawn


def register(ctx: Context, hub: AlertHub, store: TelemetryStore) -> None:
    @ui.page("/safety")
    def control_centre(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("safety_title"))
        if not page.principal.reads_all(Resource.hazards):
            ui.label(page.t("safety_only")).props('id="safety-only"')
            return None
        ui.add_css(
            "@keyframes blink{50%{opacity:.25}} .blink{animation:blink 1s step-start infinite}"
        )
        with ctx.db.unit(page.principal) as session:
            data = registry.overview(session, page.principal)
        zones = [{"code": z.code, "boundary": z.boundary, "label": z.name} for z in data.zones]
        Centre(ctx, page, hub, store, zones, data.footprints).build()
        return None


class Centre:
    """One open control-centre page and what it redraws."""

    def __init__(
        self,
        ctx: Context,
        page: PageContext,
        hub: AlertHub,
        store: TelemetryStore,
        zones: list[dict[str, Any]],
        footprints: list[dict[str, Any]],
    ) -> None:
        self.ctx, self.page, self.hub, self.store = ctx, page, hub, store
        self.zones, self.footprints = zones, footprints
        self.seq = hub.seq
        self.board = control.Board()
        self.drawn: tuple[object, ...] = ()  # what the lists show, to redraw only on change

    def build(self) -> None:
        t = self.page.t
        with ui.row().classes("w-full items-center gap-6"):
            ui.label(t("safety_title")).classes("text-2xl font-bold")
            ui.space()
            self.kpis = ui.row().classes("gap-4")
            if self.ctx.settings.simulate:
                ui.button(t("safety_drill"), on_click=self.drill).props(
                    'id="gas-drill" color=orange no-caps'
                )
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.card().classes("grow min-w-0"):
                ui.label(t("safety_map")).classes("text-lg font-semibold")
                self.map = ui.html("", sanitize=False).classes("w-full").props('id="safety-map"')
            with ui.card().classes("w-[34rem] shrink-0"):
                ui.label(t("safety_alarms")).classes("text-lg font-semibold")
                self.alarm_list = ui.column().classes("w-full gap-1").props('id="alarm-list"')
        ui.label(t("safety_incidents")).classes("text-lg font-semibold mt-4")
        self.incident_board = ui.row().classes("w-full no-wrap gap-4 items-start")
        with ui.row().classes("w-full no-wrap gap-4 items-start mt-4"):
            self.water = ui.card().classes("grow")
            self.traffic = ui.card().classes("grow")
            self.kpi = ui.card().classes("grow")
        self.dialogs = ui.element("div")  # dialogs live here, not in a list that is redrawn
        self.refresh()
        self.panels()
        ui.timer(1.0, self.tick)

    # --- data ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        with self.ctx.db.unit(self.page.principal) as session:
            self.board = control.board(session, self.page.principal)
        shown = (
            tuple((a["id"], a["state"]) for a in self.board.alarms),
            tuple((i["id"], i["status"]) for i in self.board.incidents),
        )
        if shown == self.drawn:
            return
        self.drawn = shown
        self.map.set_content(
            svgmap.render(self.zones, self.footprints, overlays=overlays(self.board))
        )
        self.draw_kpis()
        self.draw_alarms()
        self.draw_incidents()

    def panels(self) -> None:
        with self.ctx.db.unit(self.page.principal) as session:
            water_panel(self.water, self.page, session, self.store)
            traffic_panel(self.traffic, self.page)
            kpi_panel(self.kpi, self.page, session)

    def tick(self) -> None:
        """Redraw when the hub saw safety events; pop up the new alarms."""
        if self.hub.seq == self.seq:
            return
        for _seq, subject, payload in self.hub.since(self.seq, self.page.principal):
            if subject == "safety.alarm_raised":
                ui.notify(
                    f"{self.page.t('safety_new_alarm')}{payload.get('message', '')}",
                    type="negative",
                    position="top-right",
                )
        self.seq = self.hub.seq
        self.refresh()

    # --- drawing -------------------------------------------------------------------------------

    def draw_kpis(self) -> None:
        t = self.page.t
        unack = sum(
            a["state"] in ("unacknowledged", "rtn_unacknowledged") for a in self.board.alarms
        )
        self.kpis.clear()
        with self.kpis:
            for key, value, ident in (
                ("safety_open_count", len(self.board.alarms), "kpi-open"),
                ("safety_unack_count", unack, "kpi-unack"),
            ):
                with ui.column().classes("gap-0 items-center"):
                    ui.label(str(value)).classes("text-2xl font-bold").props(f'id="{ident}"')
                    ui.label(t(key)).classes("text-xs text-slate-500")

    def draw_alarms(self) -> None:
        t = self.page.t
        self.alarm_list.clear()
        with self.alarm_list:
            if not self.board.alarms:
                ui.label(t("safety_no_alarms")).classes("text-slate-500")
            for a in self.board.alarms:
                colour = PRIORITY_COLOURS.get(a["priority"], "#64748b")
                with (
                    ui.row()
                    .classes("w-full items-center gap-2 border-b py-1")
                    .props(f'data-alarm="{a["id"]}"')
                ):
                    ui.element("span").style(
                        f"width:10px;height:10px;border-radius:50%;background:{colour}"
                    )
                    with ui.column().classes("grow gap-0 min-w-0"):
                        ui.label(a["message"]).classes("text-sm font-medium truncate")
                        ui.label(f"{a['priority']} · {a['state']} · {a['source']}").classes(
                            "text-xs text-slate-500"
                        )
                    if a["state"] in ("unacknowledged", "rtn_unacknowledged"):
                        ui.button(
                            t("safety_ack"), on_click=lambda _e, i=a["id"]: self.ack(i)
                        ).props(f'dense no-caps color=red id="ack-{a["id"]}"')
                    if a["state"] in ("unacknowledged", "acknowledged"):
                        ui.button(
                            t("safety_shelve"), on_click=lambda _e, i=a["id"]: self.shelve(i)
                        ).props(f'dense flat no-caps id="shelve-{a["id"]}"')
                    ui.button(
                        t("safety_open_incident"), on_click=lambda _e, x=a: self.open_dialog(x)
                    ).props(f'dense flat no-caps color=purple id="incident-{a["id"]}"')

    def draw_incidents(self) -> None:
        t = self.page.t
        self.incident_board.clear()
        with self.incident_board:
            for status in STATUS_COLUMNS:
                with ui.card().classes("grow min-w-0").props(f'id="incidents-{status}"'):
                    ui.label(t(f"safety_{status}")).classes("font-semibold")
                    rows = [i for i in self.board.incidents if i["status"] == status][:10]
                    if not rows:
                        ui.label(t("safety_no_incidents")).classes("text-xs text-slate-500")
                    for i in rows:
                        ui.link(
                            f"#{i['id']} · {i['title']} · {i['kind']} · S{i['severity']}",
                            f"/safety/incidents/{i['id']}",
                        ).classes("text-sm")

    # --- actions -------------------------------------------------------------------------------

    def _act(self, action: Any) -> bool:
        """An action from the board, which is drawn again after it went through."""
        if not acted(self.page, action):
            return False
        self.refresh()
        return True

    def ack(self, alarm_id: int) -> None:
        self._act(lambda s, p: alarms.acknowledge(s, p, alarm_id, "control centre"))

    def shelve(self, alarm_id: int) -> None:
        self._act(lambda s, p: alarms.shelve(s, p, alarm_id, 30, "shelved from the control centre"))

    def drill(self) -> None:
        started: dict[str, Any] = {}

        def run(session: Any, principal: Any) -> None:
            started.update(control.start_gas_drill(session, principal, self.ctx.settings.simulate))

        if self._act(run):
            ui.notify(f"{self.page.t('safety_drill_started')}{started.get('name', '')}")

    def open_dialog(self, alarm: dict[str, Any]) -> None:
        t = self.page.t
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("w-[28rem]"):
            ui.label(t("safety_open_incident")).classes("text-lg font-semibold")
            title = (
                ui.input(t("safety_title_field"), value=alarm["message"][:200])
                .classes("w-full")
                .props('for="new-incident-title"')
            )
            kind = ui.select(
                ["gas", "fire", "chemical", "water", "traffic", "security", "other"],
                value=INCIDENT_KIND.get(alarm.get("kind", ""), "other"),
                label=t("safety_kind"),
            ).classes("w-full")
            severity = ui.select([1, 2, 3, 4], value=3, label=t("safety_severity")).classes(
                "w-full"
            )
            radius = ui.number(t("safety_radius"), value=500, min=50, max=50_000).classes("w-full")
            created: dict[str, int] = {}

            def create() -> None:
                body = IncidentIn(
                    title=title.value or alarm["message"][:200],
                    kind=kind.value,
                    severity=int(severity.value),
                    alarm_ids=[alarm["id"]],
                    lat=alarm.get("lat") or 0.0,
                    lon=alarm.get("lon") or 0.0,
                    radius_m=float(radius.value or 500),
                )

                def run(session: Any, principal: Any) -> None:
                    created["id"] = incidents.open_incident(session, principal, body).id

                if self._act(run):
                    dialog.close()
                    ui.navigate.to(f"/safety/incidents/{created['id']}")

            with ui.row().classes("w-full justify-end"):
                ui.button(t("safety_cancel"), on_click=dialog.close).props("flat no-caps")
                ui.button(t("safety_create"), on_click=create).props(
                    'no-caps color=purple id="incident-create"'
                )
        dialog.open()
