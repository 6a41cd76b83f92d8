"""The frame every page shares: who is logged in, the language, the header and navigation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.errors import SandanError
from sandan.core.http import SESSION_COOKIE, principal_from_credentials, principal_from_request
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.web.i18n import LANG_COOKIE, LANGUAGES, role_name, t

T = TypeVar("T")


@dataclass(frozen=True)
class PageContext:
    """What a page knows about its viewer."""

    ctx: Context
    principal: Principal
    lang: str
    authorization: str | None = None
    cookie: str | None = None

    def t(self, key: str) -> str:
        return t(key, self.lang)

    def still_allowed(self) -> Principal | None:
        """Re-check the login before an action: a page can outlive a logout or deactivation."""
        with self.ctx.db.unit() as session:
            try:
                return principal_from_credentials(
                    self.ctx, session, self.authorization, self.cookie
                )
            except SandanError:
                return None


def language(ctx: Context, request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE) or request.query_params.get("lang")
    return lang if lang in LANGUAGES else ctx.settings.default_language


def viewer(ctx: Context, request: Request) -> PageContext | None:
    """The logged-in viewer of a page, or None (the page then redirects to /login)."""
    with ctx.db.unit() as session:
        try:
            principal = principal_from_request(ctx, session, request)
        except SandanError:
            principal = None
    if principal is None:
        return None
    return PageContext(
        ctx=ctx,
        principal=principal,
        lang=language(ctx, request),
        authorization=request.headers.get("authorization"),
        cookie=request.cookies.get(SESSION_COOKIE),
    )


def to_login(request: Request) -> RedirectResponse:
    """A real HTTP redirect to the login page (the page builder returns it instead of a page)."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def warn(exc: Exception) -> None:
    """A refusal as a short warning: the floor and control-room pages."""
    ui.notify(str(exc), type="warning")


def notice(exc: Exception) -> None:
    """A refusal as a notice to read before correcting the input: the form pages."""
    ui.notify(str(exc), type="negative", multi_line=True)


def act(
    page: PageContext,
    work: Callable[[Session, Principal], T],
    done: str | None = None,
    *,
    ended: str | None = None,
    refused: Callable[[Exception], None] = warn,
    catching: tuple[type[Exception], ...] = (SandanError,),
) -> T | None:
    """One service call as its own unit of work for the viewer, committed at its end; its
    result, or None. The login is checked again first (a page can outlive its session): when
    it is gone the notice `ended` (an i18n key) is shown, or without one the browser goes to
    the login page. A refusal (an exception in `catching`) is shown by `refused` rather than
    as an error page, so the person can correct the input and try again; `done` (an i18n
    key) is the notice of success."""
    principal = page.still_allowed()
    if principal is None:
        if ended is None:
            ui.navigate.to("/login")
        else:
            ui.notify(page.t(ended), type="warning")
        return None
    try:
        with page.ctx.db.unit(principal) as session:
            result = work(session, principal)
    except catching as exc:
        refused(exc)
        return None
    if done is not None:
        ui.notify(page.t(done), type="positive")
    return result


def acted(
    page: PageContext,
    work: Callable[[Session, Principal], object],
    *,
    ended: str | None = None,
    refused: Callable[[Exception], None] = warn,
) -> bool:
    """act() for a call whose result the page does not use: whether it went through."""

    def run(session: Session, principal: Principal) -> bool:
        work(session, principal)
        return True

    return act(page, run, ended=ended, refused=refused) is not None


def header(page: PageContext, title: str) -> None:
    """The top bar with navigation, language switch and logout."""
    ui.page_title(f"{title} · Sandan")
    with ui.header().classes("items-center bg-slate-800 text-white gap-4 px-4"):
        ui.link("산단 Sandan", "/").classes("text-lg font-bold text-white no-underline")
        ui.link(page.t("overview"), "/").classes("text-white")
        ui.link(page.t("companies"), "/companies").classes("text-white")
        ui.link(page.t("sharing"), "/sharing").classes("text-white")
        if page.principal.has(Scope.hazards_write) and page.principal.company_id:
            ui.link(page.t("hz_title"), "/safety/register").classes("text-white").props(
                'id="nav-hazards"'
            )
        if page.principal.reads_all(Resource.hazards):
            ui.link(page.t("safety"), "/safety").classes("text-white").props('id="nav-safety"')
        if page.principal.has(Scope.warehouse_operate) or page.principal.has(Scope.warehouse_order):
            ui.link("공동배송" if page.lang == "ko" else "Deliveries", "/logistics/routes").classes(
                "text-white"
            ).props('id="nav-routes"')
            ui.link(page.t("wms_stock"), "/logistics/stock").classes("text-white").props(
                'id="nav-stock"'
            )
            ui.link(page.t("wms_docks"), "/logistics/docks").classes("text-white").props(
                'id="nav-docks"'
            )
            ui.link(page.t("wms_billing"), "/logistics/billing").classes("text-white").props(
                'id="nav-billing"'
            )
        if page.principal.has(Scope.warehouse_operate):
            ui.link(page.t("wms_receiving"), "/logistics/receiving").classes("text-white").props(
                'id="nav-receiving"'
            )
            ui.link(page.t("wms_picking"), "/logistics/picking").classes("text-white").props(
                'id="nav-picking"'
            )
        if page.principal.has(Scope.import_write):
            ui.link(page.t("onboarding"), "/admin/onboarding").classes("text-white")
        if page.principal.has(Scope.users_read):
            ui.link(page.t("users"), "/admin/users").classes("text-white")
        ui.space()
        roles = ", ".join(role_name(r, page.lang) for r in sorted(page.principal.roles))
        ui.label(f"{page.principal.name} · {roles}").classes("text-sm opacity-80")
        other = "en" if page.lang == "ko" else "ko"
        ui.link("English" if other == "en" else "한국어", f"/lang/{other}").classes(
            "text-white text-sm"
        ).props('id="lang-switch"')
        ui.button(
            page.t("logout"),
            on_click=lambda: ui.run_javascript(
                "fetch('/api/v1/auth/logout',{method:'POST',credentials:'same-origin'})"
                ".then(()=>{window.location='/login'})"
            ),
        ).props("flat no-caps color=white")
