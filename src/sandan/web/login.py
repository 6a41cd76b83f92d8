"""The login page and the language switch."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app as nicegui_app
from nicegui import ui

from sandan.core.context import Context
from sandan.web.i18n import LANG_COOKIE, LANGUAGES, t
from sandan.web.shell import language


def register(ctx: Context) -> None:
    @nicegui_app.get("/lang/{code}", include_in_schema=False)
    def switch_language(code: str, request: Request) -> RedirectResponse:
        referer = urlsplit(request.headers.get("referer") or "/")
        back = "/" + referer.path.lstrip("/")  # a path on this site, never //other-host
        if referer.query:
            back += f"?{referer.query}"
        response = RedirectResponse(back, status_code=303)
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
        return response

    @ui.page("/login")
    def login_page(request: Request) -> None:
        lang = language(ctx, request)
        target = unquote(request.query_params.get("next", "/"))
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        ui.page_title(f"{t('login', lang)} · Sandan")
        with ui.column().classes("absolute-center items-center gap-4"):
            ui.label("산단 Sandan").classes("text-4xl font-bold text-slate-800")
            ui.label(t("app_title", lang)).classes("text-slate-500")
            with ui.card().classes("w-96 gap-2"):
                email = (
                    ui.input(t("email", lang))
                    .classes("w-full")
                    .props('for="login-email" autocomplete=username')
                )
                password = (
                    ui.input(t("password", lang), password=True)
                    .classes("w-full")
                    .props('for="login-password" autocomplete=current-password')
                )
                error = ui.label().classes("text-red-700 text-sm").props('id="login-error"')

                async def submit() -> None:
                    body = json.dumps(
                        {"email": email.value or "", "password": password.value or ""}
                    )
                    result = await ui.run_javascript(
                        "const r = await fetch('/api/v1/auth/login', {method: 'POST', "
                        "credentials: 'same-origin', headers: {'Content-Type': 'application/json'},"
                        f" body: {json.dumps(body)}}});"
                        "const j = await r.json().catch(() => ({}));"
                        "return {status: r.status, detail: j.detail || ''};",
                        timeout=15,
                    )
                    if result and result.get("status") == 200:
                        ui.navigate.to(target)
                    else:
                        detail = result.get("detail") if result else ""
                        error.set_text(f"{t('login_failed', lang)}: {detail}")

                password.on("keydown.enter", submit)
                ui.button(t("login", lang), on_click=submit).classes("w-full").props(
                    'id="login-button" no-caps'
                )
            other = "en" if lang == "ko" else "ko"
            ui.link("English" if other == "en" else "한국어", f"/lang/{other}").props(
                'id="lang-switch"'
            )
