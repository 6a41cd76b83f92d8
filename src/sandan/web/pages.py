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
    logistics_billing,
    logistics_picking,
    logistics_receiving,
    logistics_routes,
    logistics_stock,
    oee,
    overview,
    quality,
    safety,
    safety_incident,
    safety_register,
    sharing,
    sharing_benchmarks,
    summary,
)


def mount_ui(app: FastAPI, ctx: Context, store: TelemetryStore) -> None:
    """Register every page and let NiceGUI serve them from the same app (and port)."""
    for area in (login, companies, admin, safety_register, safety_incident):
        area.register(ctx)
    overview.register(ctx, store)
    logistics_routes.register(ctx)  # joint delivery: /logistics/routes
    logistics_receiving.register(ctx)  # warehouse clerk: /logistics/receiving
    logistics_picking.register(ctx)  # warehouse clerk: /logistics/picking
    logistics_stock.register(ctx)  # /logistics/stock and /logistics/docks
    logistics_billing.register(ctx)  # tenants' monthly bills: /logistics/billing
    for area_with_store in (live, oee, summary, quality, sharing, sharing_benchmarks):
        area_with_store.register(ctx, store)
    safety.register(ctx, app.state.safety_alerts, store)
    ui.run_with(
        app,
        title="Sandan",
        favicon="🏭",
        storage_secret=ctx.settings.resolved_secret_key(),
        show_welcome_message=False,
        language="ko-KR" if ctx.settings.default_language == "ko" else "en-US",
    )
