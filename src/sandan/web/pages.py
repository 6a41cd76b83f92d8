"""Mount the NiceGUI pages on the platform's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI
from nicegui import ui

from sandan.core.context import Context
from sandan.telemetry.store import TelemetryStore
from sandan.web import (
    admin,
    companies,
    live,
    login,
    oee,
    overview,
    sharing,
    sharing_benchmarks,
    summary,
)


def mount_ui(app: FastAPI, ctx: Context, store: TelemetryStore) -> None:
    """Register every page and let NiceGUI serve them from the same app (and port)."""
    for area in (login, companies, admin, sharing):
        area.register(ctx)
    overview.register(ctx, store)
    for area_with_store in (live, oee, summary, sharing_benchmarks):
        area_with_store.register(ctx, store)
    ui.run_with(
        app,
        title="Sandan",
        favicon="🏭",
        storage_secret=ctx.settings.resolved_secret_key(),
        show_welcome_message=False,
        language="ko-KR" if ctx.settings.default_language == "ko" else "en-US",
    )
