"""Admin pages: CSV onboarding of companies and the users of the platform."""

from __future__ import annotations

import io

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui
from nicegui.events import UploadEventArguments

from sandan.core.context import Context
from sandan.core.errors import NotAuthenticated, SandanError
from sandan.core.identity import service as identity
from sandan.core.identity.models import User
from sandan.core.identity.roles import COMPANY_ROLES, Role, Scope
from sandan.registry import importer
from sandan.web.shell import PageContext, header, to_login, viewer


def _forbidden(page: PageContext) -> None:
    ui.label(page.t("forbidden")).classes("text-xl text-red-700")


def register(ctx: Context) -> None:
    @ui.page("/admin/onboarding")
    def onboarding_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("onboarding"))
        if not page.principal.has(Scope.import_write):
            _forbidden(page)
            return None
        ui.label(page.t("onboarding")).classes("text-2xl font-bold")
        ui.label(page.t("csv_help")).classes("text-sm text-slate-600")

        def run_import(text: str, filename: str) -> importer.ImportReport:
            principal = page.still_allowed()
            if principal is None:
                raise NotAuthenticated("your session ended; log in again")
            with ctx.db.unit(principal) as session:
                return importer.import_companies(
                    session, principal, io.StringIO(text), filename=filename
                )

        async def on_upload(event: UploadEventArguments) -> None:
            try:
                text = (await event.file.read()).decode("utf-8-sig")
                report = await run.io_bound(run_import, text, event.file.name)
                assert report is not None
            except UnicodeDecodeError:
                ui.notify("CSV must be UTF-8", type="negative")
                return
            except SandanError as exc:
                ui.notify(exc.message, type="negative")
                return
            ctx.metrics.import_rows.labels("imported").inc(report.rows_total - report.rejected)
            ctx.metrics.import_rows.labels("rejected").inc(report.rejected)
            summary.set_text(
                f"{page.t('imported')}: {report.companies_created} · {page.t('sites')}: "
                f"{report.sites_created} · {page.t('rejected')}: {report.rejected} / "
                f"{report.rows_total} ({report.seconds:.2f} s)"
            )
            problems.rows = [p.__dict__ for p in report.problems]
            problems.set_visibility(bool(report.problems))
            problems.update()

        # upload first, then what the last upload did (the handler fills these in)
        ui.upload(
            label=page.t("upload_csv"),
            on_upload=on_upload,
            auto_upload=True,
            max_file_size=50_000_000,
        ).props('accept=".csv" id="csv-upload"').classes("w-96")
        summary = ui.label().props('id="import-summary"').classes("text-lg")
        problems = (
            ui.table(
                columns=[
                    {"name": k, "label": page.t(k), "field": k, "align": "left"}
                    for k in ("line", "field", "reason")
                ]
                + [{"name": "brn", "label": "BRN", "field": "brn", "align": "left"}],
                rows=[],
                pagination=20,
            )
            .classes("w-full")
            .props('id="import-problems"')
        )
        problems.set_visibility(False)
        return None

    @ui.page("/admin/users")
    def users_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        header(page, page.t("users"))
        if not page.principal.has(Scope.users_read):
            _forbidden(page)
            return None
        columns = [
            {"name": k, "label": page.t(k) if k != "id" else "ID", "field": k, "align": "left"}
            for k in ("id", "email", "name", "role", "company_id", "active")
        ]

        def load() -> list[dict[str, object]]:
            with ctx.db.unit(page.principal) as session:
                return [
                    {
                        "id": u.id,
                        "email": u.email,
                        "name": u.name,
                        "role": u.role,
                        "company_id": u.company_id or "—",
                        "active": "✓" if u.active else "✗",
                    }
                    for u in session.scalars(
                        identity.users_readable(page.principal).order_by(User.id).limit(2000)
                    )
                ]

        table = (
            ui.table(columns=columns, rows=load(), pagination=25)
            .classes("w-full")
            .props('id="users-table"')
        )
        if not page.principal.has(Scope.users_write):
            return None
        roles = (
            [r.value for r in Role]
            if page.principal.is_operator
            else [r.value for r in COMPANY_ROLES]
        )
        with ui.card().classes("w-full"):
            ui.label(page.t("create_user")).classes("text-lg font-semibold")
            with ui.row().classes("items-end gap-2"):
                email = ui.input(page.t("email"))
                name = ui.input(page.t("name"))
                role = ui.select(roles, value=roles[-1], label=page.t("role"))
                company = ui.number(
                    page.t("company_id"), value=page.principal.company_id, format="%d"
                )
                password = ui.input(page.t("password"), password=True)

                def create() -> None:
                    company_id = int(company.value) if company.value not in (None, "") else None
                    if Role(role.value) not in COMPANY_ROLES:
                        company_id = None
                    principal = page.still_allowed()
                    if principal is None:
                        ui.navigate.to("/login")
                        return
                    try:
                        with ctx.db.unit(principal) as session:
                            identity.create_user(
                                session,
                                principal,
                                email=email.value or "",
                                name=name.value or "",
                                password=password.value or "",
                                role=role.value,
                                company_id=company_id,
                            )
                    except SandanError as exc:
                        ui.notify(exc.message, type="negative")
                        return
                    ui.notify(page.t("saved"), type="positive")
                    table.rows = load()
                    table.update()

                ui.button(page.t("save"), on_click=create)
        return None
