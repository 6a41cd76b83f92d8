"""The incident page (/safety/incidents/{id}): status and commander, the companies within the
radius with their hazardous materials and emergency contacts, the timeline, tasks, a note, a
change of status, closing with a summary, and the closing report to download."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc
from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.safety.incidents import schemas
from sandan.safety.incidents import service as incidents
from sandan.safety.register.schemas import AffectedCompany
from sandan.web.shell import PageContext, acted, header, notice, to_login, viewer

KST = ZoneInfo("Asia/Seoul")
STATUS_COLOR = {"active": "red-8", "stable": "amber-8", "closed": "grey-7"}
Refresh = Callable[[], object]


def _when(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).astimezone(KST).strftime("%m-%d %H:%M:%S")


def _act(page: PageContext, work: Callable[[Session, Principal], Any]) -> bool:
    """shell.acted() as this page shows it: a lost session and a refusal become notices."""
    return acted(page, work, ended="hz_session_ended", refused=notice)


def register(ctx: Context) -> None:
    @ui.page("/safety/incidents/{incident_id}")
    def incident_page(request: Request, incident_id: int) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, f"{page.t('inc_title')} #{incident_id}")
        if not page.principal.has(Scope.safety_operate):
            ui.label(page.t("inc_only")).classes("text-slate-600").props('id="incident-denied"')
            return None

        @ui.refreshable
        def body() -> None:
            try:
                with ctx.db.unit(page.principal) as session:
                    detail = incidents.incident_detail(session, page.principal, incident_id)
            except SandanError as exc:
                ui.label(exc.message).classes("text-red-700").props('id="incident-missing"')
                return
            _draw(page, detail, body.refresh)

        body()
        return None


def _draw(page: PageContext, detail: schemas.IncidentDetail, refresh: Refresh) -> None:
    inc = detail.incident
    _head(page, detail)
    with ui.row().classes("w-full gap-4 items-start no-wrap"):
        with ui.column().classes("w-1/2 gap-4"):
            _affected(page, detail.affected, inc.radius_m)
            _alarms(page, detail)
        with ui.column().classes("w-1/2 gap-4"):
            if inc.status != "closed":
                _actions(page, inc, refresh)
            else:
                with ui.card().classes("w-full"):
                    ui.label(page.t("inc_closed_note")).classes("font-medium")
                    ui.label(inc.summary).props('id="incident-summary"')
            _tasks(page, detail, refresh)
            _timeline(page, detail)


def _head(page: PageContext, detail: schemas.IncidentDetail) -> None:
    inc, t = detail.incident, page.t
    with ui.row().classes("items-center gap-3 w-full"):
        ui.label(f"#{inc.id} {inc.title}").classes("text-2xl font-bold").props(
            'id="incident-title"'
        )
        ui.badge(t(f"inc_status_{inc.status}")).props(
            f'color={STATUS_COLOR[inc.status]} id="incident-status"'
        ).classes("text-base")
        ui.badge(t(f"inc_kind_{inc.kind}")).props("outline color=indigo-8")
        ui.space()
        with ui.row().classes("gap-1 items-center").props('id="incident-report"'):
            ui.label(t("inc_report")).classes("text-sm")
            for fmt in ("md", "html", "pdf", "csv"):
                url = f"/api/v1/safety/incidents/{inc.id}/report?format={fmt}&lang={page.lang}"
                ui.link(fmt.upper(), url).classes("text-sm px-1").props(
                    f'id="report-{fmt}" download'
                )
    facts = [
        (t("inc_severity"), f"{inc.severity} · {t(f'inc_sev_{inc.severity}')}"),
        (t("inc_commander"), detail.commander_name or "—"),
        (t("inc_opened"), f"{_when(inc.opened_at)} KST · {inc.opened_by}"),
        (t("inc_radius"), f"{inc.radius_m:,.0f} m · {inc.lat:.5f}, {inc.lon:.5f}"),
    ]
    with ui.row().classes("gap-6 text-sm"):
        for label, value in facts:
            ui.label(f"{label}: {value}")


def _affected(page: PageContext, affected: list[AffectedCompany], radius: float) -> None:
    t = page.t
    with ui.card().classes("w-full").props('id="incident-affected"'):
        ui.label(f"{t('inc_affected')} ({len(affected)}, ≤ {radius:,.0f} m)").classes(
            "text-lg font-semibold"
        )
        if not affected:
            ui.label(t("inc_no_affected")).classes("text-slate-500")
        for company in affected:
            with ui.expansion(
                f"{company.company_name} — {company.distance_m:,.0f} m",
                value=bool(company.materials),
            ).classes("w-full affected-company"):
                ui.label(company.nearest).classes("text-xs text-slate-500")
                ui.label(t("inc_materials")).classes("text-sm font-semibold")
                if not company.materials:
                    ui.label(t("inc_none")).classes("text-sm text-slate-500")
                for m in company.materials:
                    with ui.row().classes("gap-2 items-center text-sm"):
                        ui.label(m.name).classes("font-medium")
                        ui.label(f"CAS {m.cas}").classes("font-mono affected-cas")
                        ui.label(f"{m.quantity:g} {m.unit}")
                        for c in m.hazard_classes:
                            ui.badge(c).props("outline color=red-8")
                ui.label(t("inc_contacts")).classes("text-sm font-semibold")
                if not company.contacts:
                    ui.label(t("inc_none")).classes("text-sm text-slate-500")
                for person in company.contacts:
                    with ui.row().classes("gap-2 text-sm affected-contact"):
                        ui.label(f"{person.call_order}. {person.name} {person.role}")
                        ui.link(person.phone, f"tel:{person.phone}")


def _alarms(page: PageContext, detail: schemas.IncidentDetail) -> None:
    with ui.card().classes("w-full").props('id="incident-alarms"'):
        ui.label(page.t("inc_alarms")).classes("text-lg font-semibold")
        if not detail.alarms:
            ui.label(page.t("inc_none")).classes("text-slate-500")
        for alarm in detail.alarms:
            text = " · ".join(x for x in (alarm.priority, alarm.state, alarm.text) if x)
            ui.label(f"#{alarm.id} {text} {_when(alarm.raised_at)}".strip()).classes("text-sm")


def _actions(page: PageContext, inc: schemas.IncidentOut, refresh: Refresh) -> None:
    t = page.t
    with ui.card().classes("w-full"):
        note = ui.textarea(t("inc_note")).classes("w-full").props('for="note-text" autogrow')

        def add_note() -> None:
            text = str(note.value or "").strip()
            if text and _act(page, lambda s, p: incidents.add_note(s, p, inc.id, text)):
                refresh()

        with ui.row().classes("gap-2"):
            ui.button(t("inc_add_note"), on_click=add_note).props('no-caps id="note-add"')
            other = "active" if inc.status == "stable" else "stable"
            ui.button(
                t(f"inc_make_{other}"),
                on_click=lambda: (
                    _act(page, lambda s, p: incidents.change_status(s, p, inc.id, other))
                    and refresh()
                ),
            ).props(f'no-caps outline id="status-{other}"')
            ui.button(t("inc_close"), on_click=lambda: _close(page, inc, refresh)).props(
                'no-caps color=red-8 id="incident-close"'
            )


def _close(page: PageContext, inc: schemas.IncidentOut, refresh: Refresh) -> None:
    t = page.t
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label(t("inc_close")).classes("text-lg font-semibold")
        summary = ui.textarea(t("inc_summary")).classes("w-full").props('for="close-summary"')

        def ok() -> None:
            text = str(summary.value or "").strip()
            if not text:
                summary.props("error")
                return
            if _act(page, lambda s, p: incidents.close_incident(s, p, inc.id, text)):
                dialog.close()
                refresh()

        with ui.row().classes("justify-end w-full"):
            ui.button(t("inc_cancel"), on_click=dialog.close).props("flat no-caps")
            ui.button(t("inc_close"), on_click=ok).props('no-caps color=red-8 id="close-confirm"')
    dialog.open()


def _tasks(page: PageContext, detail: schemas.IncidentDetail, refresh: Refresh) -> None:
    t, inc = page.t, detail.incident
    with ui.card().classes("w-full").props('id="incident-tasks"'):
        ui.label(t("inc_tasks")).classes("text-lg font-semibold")
        for task in detail.tasks:
            with ui.row().classes("items-center gap-2 incident-task"):
                ui.icon("check_circle" if task.done else "radio_button_unchecked").classes(
                    "text-green-700" if task.done else "text-slate-400"
                )
                ui.label(task.title).classes("line-through" if task.done else "")
                ui.label(task.assignee).classes("text-sm text-slate-500")
                if not task.done and inc.status != "closed":
                    ui.button(
                        t("inc_done"),
                        on_click=lambda _, tid=task.id: (
                            _act(page, lambda s, p: incidents.complete_task(s, p, inc.id, tid))
                            and refresh()
                        ),
                    ).props("flat dense no-caps")
        if inc.status == "closed":
            return
        with ui.row().classes("items-end gap-2"):
            title = ui.input(t("inc_task_title")).props('for="task-title"')
            assignee = ui.input(t("inc_assignee")).props('for="task-assignee"')

            def add() -> None:
                text = str(title.value or "").strip()
                if not text:
                    return
                body = schemas.TaskIn(title=text[:300], assignee=str(assignee.value or "")[:200])
                if _act(page, lambda s, p: incidents.add_task(s, p, inc.id, body)):
                    refresh()

            ui.button(t("inc_add_task"), on_click=add).props('no-caps id="task-add"')


def _timeline(page: PageContext, detail: schemas.IncidentDetail) -> None:
    with ui.card().classes("w-full").props('id="incident-timeline"'):
        ui.label(page.t("inc_timeline")).classes("text-lg font-semibold")
        for entry in reversed(detail.timeline):
            with ui.row().classes("gap-2 text-sm timeline-entry no-wrap"):
                ui.label(_when(entry.at)).classes("text-slate-500 w-32 shrink-0")
                ui.label(page.t(f"inc_entry_{entry.kind}")).classes("font-medium w-24 shrink-0")
                ui.label(entry.author).classes("text-slate-600 w-32 shrink-0")
                ui.label(entry.text).classes("timeline-text")
