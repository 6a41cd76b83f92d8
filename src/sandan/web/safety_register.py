"""The hazard register page: a company's facilities, hazardous materials (the CAS number is
checked by its check digit as it is typed, and a refusal is shown on the field) and 24-hour
emergency contacts. A company's admin keeps its own; the safety duties choose any company."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.errors import SandanError, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.registry import service as registry
from sandan.safety.register import schemas
from sandan.safety.register import service as hazards
from sandan.safety.register.models import EmergencyContact, Facility, HazardousMaterial
from sandan.safety.register.validators import cas_problem
from sandan.web.shell import PageContext, acted, header, notice, to_login, viewer

KINDS = ("storage_tank", "gas_cabinet", "warehouse", "cylinder_store", "process")
UNITS = ("kg", "t", "L", "m3", "Nm3")


def _act(
    page: PageContext,
    work: Callable[[Session, Principal], Any],
    fields: dict[str, ui.input | ui.number] | None = None,
) -> bool:
    """shell.acted() as this page shows it: a lost session becomes a notice, a refusal naming a
    field is shown on that field, any other becomes a notice."""

    def refused(exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            _shown(exc, fields or {})
        else:
            notice(exc)

    return acted(page, work, ended="hz_session_ended", refused=refused)


def _build(
    shape: type[BaseModel], values: dict[str, Any], fields: dict[str, ui.input | ui.number]
) -> BaseModel | None:
    """The request body, or None with every refusal shown on its own field."""
    for element in fields.values():
        element.error = None
    try:
        return shape.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            reason = str(err["msg"]).removeprefix("Value error, ")
            if name in fields:
                fields[name].error = reason
            else:
                ui.notify(f"{name}: {reason}", type="negative")
        return None


def _shown(problem: ValidationFailed, fields: dict[str, ui.input | ui.number]) -> None:
    for p in problem.problems:
        if p.field in fields:
            fields[p.field].error = p.reason
        else:
            ui.notify(f"{p.field}: {p.reason}", type="negative")


def _save(
    page: PageContext,
    shape: type[BaseModel],
    values: dict[str, Any],
    fields: dict[str, ui.input | ui.number],
    create: Callable[[Session, Principal, Any], Any],
    then: Callable[[], object],
) -> None:
    body = _build(shape, values, fields)
    if body is None:
        return
    if _act(page, lambda s, p: create(s, p, body), fields):
        ui.notify(page.t("hz_added"), type="positive")
        then()


def _delete_button(
    page: PageContext, model: type[Any], row_id: int, then: Callable[[], object]
) -> None:
    def delete() -> None:
        if _act(page, lambda s, p: hazards.delete_owned(s, p, model, row_id)):
            ui.notify(page.t("hz_deleted"), type="positive")
            then()

    ui.button(icon="delete", on_click=delete).props("flat dense round color=grey-7").tooltip(
        page.t("hz_delete")
    )


def _table(page: PageContext, rows: list[list[str]], heads: list[str], element_id: str) -> ui.grid:
    grid = ui.grid(columns=len(heads)).classes("w-full gap-x-4 gap-y-1 items-center")
    grid.props(f'id="{element_id}"')
    with grid:
        for head in heads:
            ui.label(head).classes("text-xs font-semibold text-slate-500")
        for row in rows:
            for cell in row:
                ui.label(cell)
    return grid


def _companies(session: Session, principal: Principal) -> dict[int, str]:
    stmt = registry.list_companies_stmt(principal).limit(5000)
    return {c.id: c.name for c in session.scalars(stmt)}


def register(ctx: Context) -> None:
    @ui.page("/safety/register")
    def register_page(request: Request, company: int | None = None) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("hz_title"))
        ui.label(page.t("hz_title")).classes("text-2xl font-bold")
        principal = page.principal
        if principal.reads_all(Resource.hazards):
            with ctx.db.unit(principal) as session:
                options = _companies(session, principal)
            ui.select(
                options,
                value=company if company in options else None,
                label=page.t("hz_company"),
                with_input=True,
                on_change=lambda e: ui.navigate.to(f"/safety/register?company={e.value}"),
            ).classes("w-96").props('id="hz-company"')
        else:
            company = principal.company_id
        if company is None:
            ui.label(page.t("hz_no_company")).classes("text-slate-500")
            return None
        _register_body(page, company)
        return None


def _register_body(page: PageContext, company_id: int) -> None:
    writable = hazards.may_write(page.principal, company_id)

    @ui.refreshable
    def body() -> None:
        try:
            with page.ctx.db.unit(page.principal) as session:
                reg = hazards.register_of(session, page.principal, company_id)
        except SandanError as exc:
            ui.label(exc.message).classes("text-red-700")
            return
        ui.label(reg.company_name).classes("text-xl font-semibold").props('id="hz-company-name"')
        _facilities(page, reg, writable, body.refresh)
        _materials(page, reg, writable, body.refresh)
        _contacts(page, reg, writable, body.refresh)

    body()


def _facilities(
    page: PageContext, reg: schemas.HazardRegister, writable: bool, then: Callable[[], object]
) -> None:
    t = page.t
    with ui.card().classes("w-full"):
        ui.label(t("hz_facilities")).classes("text-lg font-semibold")
        if not reg.facilities:
            ui.label(t("hz_none")).classes("text-slate-500")
        for f in reg.facilities:
            with ui.row().classes("items-center gap-4 hz-facility"):
                ui.label(f.name).classes("font-medium w-56")
                ui.label(t(f"hz_kind_{f.kind}") if f.kind in KINDS else f.kind).classes("w-40")
                ui.label(f"{f.lat:.5f}, {f.lon:.5f}").classes("text-sm text-slate-600")
                if writable:
                    _delete_button(page, Facility, f.id, then)
        if not writable:
            return
        with ui.row().classes("items-start gap-2"):
            name = ui.input(t("hz_name")).props('for="facility-name"')
            kind = ui.select(
                {k: t(f"hz_kind_{k}") for k in KINDS}, value=KINDS[0], label=t("hz_kind")
            )
            lat = ui.number(t("hz_lat"), value=36.1, format="%.5f").props('for="facility-lat"')
            lon = ui.number(t("hz_lon"), value=128.38, format="%.5f").props('for="facility-lon"')
            fields: dict[str, ui.input | ui.number] = {"name": name, "lat": lat, "lon": lon}
            ui.button(
                t("hz_add"),
                on_click=lambda: _save(
                    page,
                    schemas.FacilityIn,
                    {
                        "company_id": reg.company_id,
                        "name": name.value,
                        "kind": kind.value,
                        "lat": lat.value,
                        "lon": lon.value,
                    },
                    fields,
                    hazards.create_facility,
                    then,
                ),
            ).props('no-caps id="facility-add"')


def _materials(
    page: PageContext, reg: schemas.HazardRegister, writable: bool, then: Callable[[], object]
) -> None:
    t = page.t
    at = {f.id: f.name for f in reg.facilities}
    with ui.card().classes("w-full"):
        ui.label(t("hz_materials")).classes("text-lg font-semibold")
        if not reg.materials:
            ui.label(t("hz_none")).classes("text-slate-500")
        for m in reg.materials:
            with ui.row().classes("items-center gap-4 hz-material"):
                ui.label(m.name).classes("font-medium w-56")
                ui.label(m.cas).classes("font-mono w-28 hz-cas")
                maximum = f" / {m.max_quantity:g}" if m.max_quantity is not None else ""
                ui.label(f"{m.quantity:g}{maximum} {m.unit}").classes("w-32")
                ui.label(at.get(m.facility_id, "")).classes("w-40")
                with ui.row().classes("gap-1"):
                    for c in m.hazard_classes:
                        ui.badge(c).props("outline color=red-8")
                if writable:
                    _delete_button(page, HazardousMaterial, m.id, then)
        if not writable:
            return
        if not reg.facilities:
            ui.label(t("hz_need_facility")).classes("text-slate-500")
            return
        with ui.row().classes("items-start gap-2"):
            facility = ui.select(at, value=reg.facilities[0].id, label=t("hz_facility")).classes(
                "w-48"
            )
            name = ui.input(t("hz_name")).props('for="material-name"')
            cas = ui.input(
                t("hz_cas"),
                placeholder="7664-39-3",
                validation=lambda v: cas_problem(str(v)) if v else None,
            ).props('for="material-cas"')
            quantity = ui.number(t("hz_quantity"), value=0, min=0).props('for="material-quantity"')
            unit = ui.select(list(UNITS), value="kg", label=t("hz_unit")).classes("w-20")
            max_in = ui.number(t("hz_max"), min=0)
            classes = ui.input(t("hz_classes"), placeholder=t("hz_classes_help")).classes("w-56")
            fields: dict[str, ui.input | ui.number] = {
                "name": name,
                "cas": cas,
                "quantity": quantity,
                "max_quantity": max_in,
                "hazard_classes": classes,
            }

            def values() -> dict[str, Any]:
                return {
                    "facility_id": facility.value,
                    "name": name.value,
                    "cas": cas.value or "",
                    "quantity": quantity.value,
                    "unit": unit.value,
                    "max_quantity": max_in.value,
                    "hazard_classes": [c for c in str(classes.value or "").split(",") if c.strip()],
                }

            ui.button(
                t("hz_add"),
                on_click=lambda: _save(
                    page, schemas.MaterialIn, values(), fields, hazards.create_material, then
                ),
            ).props('no-caps id="material-add"')


def _contacts(
    page: PageContext, reg: schemas.HazardRegister, writable: bool, then: Callable[[], object]
) -> None:
    t = page.t
    with ui.card().classes("w-full"):
        ui.label(t("hz_contacts")).classes("text-lg font-semibold")
        if not reg.contacts:
            ui.label(t("hz_none")).classes("text-slate-500")
        for c in reg.contacts:
            with ui.row().classes("items-center gap-4 hz-contact"):
                ui.label(f"{c.call_order}.").classes("w-6")
                ui.label(c.name).classes("font-medium w-40")
                ui.label(c.role).classes("w-40")
                ui.link(c.phone, f"tel:{c.phone}").classes("w-36")
                ui.label(c.email).classes("text-sm text-slate-600")
                if writable:
                    _delete_button(page, EmergencyContact, c.id, then)
        if not writable:
            return
        with ui.row().classes("items-start gap-2"):
            name = ui.input(t("hz_name")).props('for="contact-name"')
            role = ui.input(t("hz_role"))
            phone = ui.input(t("hz_phone")).props('for="contact-phone"')
            email = ui.input(t("hz_email"))
            order = ui.number(t("hz_order"), value=len(reg.contacts) + 1, min=1, max=99).classes(
                "w-24"
            )
            fields: dict[str, ui.input | ui.number] = {
                "name": name,
                "role": role,
                "phone": phone,
                "email": email,
                "call_order": order,
            }
            ui.button(
                t("hz_add"),
                on_click=lambda: _save(
                    page,
                    schemas.EmergencyContactIn,
                    {
                        "company_id": reg.company_id,
                        "name": name.value,
                        "role": role.value or "",
                        "phone": phone.value,
                        "email": email.value or "",
                        "call_order": int(order.value or 1),
                    },
                    fields,
                    hazards.create_contact,
                    then,
                ),
            ).props('no-caps id="contact-add"')
