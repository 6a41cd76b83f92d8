"""The FastAPI application: API routes, health, metrics and (optionally) the web pages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sandan.analytics.api import router as analytics_router
from sandan.core.audit.api import router as audit_router
from sandan.core.bus import Event
from sandan.core.context import Context
from sandan.core.errors import NotFound
from sandan.core.http import install_error_handlers
from sandan.core.identity.api import router as identity_router
from sandan.core.mqtt import mqtt_broker
from sandan.logistics.api import router as logistics_router
from sandan.registry.api import router as registry_router
from sandan.safety import runtime as safety_runtime
from sandan.safety.alarms.evaluate import evaluate_batch
from sandan.safety.api import router as safety_router
from sandan.safety.live import AlertHub
from sandan.settings import Settings
from sandan.sharing.api import router as sharing_router
from sandan.sharing.dsp import router as dsp_router
from sandan.sharing.files_api import router as sharing_files_router
from sandan.sharing.remote_api import router as remote_sharing_router
from sandan.simulator.feed import feed_in_process
from sandan.telemetry.api import router as telemetry_router
from sandan.telemetry.factory import make_store
from sandan.telemetry.live import LiveHub
from sandan.telemetry.mqtt import MqttIngest
from sandan.telemetry.observers import register as observe_batches
from sandan.telemetry.opcua_security import load_opcua_security
from sandan.telemetry.opcua_worker import OpcUaIngest
from sandan.telemetry.retention import retention_loop
from sandan.telemetry.sparkplug.worker import SparkplugIngest
from sandan.telemetry.store import TelemetryStore

log = structlog.get_logger(__name__)


_RUNNING: set[asyncio.Task[None]] = set()


class IngestWorker(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


def start_ingest_workers(
    settings: Settings, context: Context, store: TelemetryStore
) -> list[IngestWorker]:
    """The in-process ingest workers the settings ask for: MQTT JSON (`SANDAN_MQTT_INGEST`),
    Sparkplug B (`SANDAN_SPARKPLUG_INGEST`, on the same broker) and OPC UA
    (`SANDAN_OPCUA_INGEST`, the registry's opcua devices). Registry changes refresh their
    lookups at once."""
    workers: list[IngestWorker] = []
    refreshers: list[Callable[[], None]] = []
    if settings.mqtt_ingest:
        mqtt = MqttIngest(context.db, store, mqtt_broker(settings))
        workers.append(mqtt)
        refreshers.append(mqtt.directory.invalidate)
    if settings.sparkplug_ingest:
        sparkplug = SparkplugIngest(
            context.db, store, mqtt_broker(settings), host_id=settings.sparkplug_host_id
        )
        workers.append(sparkplug)
        refreshers.append(sparkplug.directory.invalidate)
    if settings.opcua_ingest:
        # A bad security file stops the start here, with its message (endpoint and field).
        security = load_opcua_security(settings)
        opcua = OpcUaIngest(context.db, store, security=security, metrics=context.metrics)
        workers.append(opcua)
        refreshers.append(opcua.invalidate)
    if not workers:
        return []

    async def refresh(_event: Event) -> None:
        for invalidate in refreshers:
            invalidate()

    context.bus.subscribe("registry.>", refresh)
    loop = asyncio.get_running_loop()
    for worker in workers:
        task = loop.create_task(worker.run())
        _RUNNING.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_RUNNING.discard)
    return workers


def create_app(settings: Settings, *, with_ui: bool = True, ctx: Context | None = None) -> FastAPI:
    """Build the app for these settings; tests pass with_ui=False for a bare API."""
    context = ctx or Context.build(settings)

    store = make_store(settings)
    hub = LiveHub()
    observe_batches(evaluate_batch)  # alarms commit with the readings that raise them
    alerts = AlertHub()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await context.bus.start()
        context.bus.subscribe("telemetry.reading_batch", hub.on_batch)
        workers = start_ingest_workers(settings, context, store)
        safety = safety_runtime.start(settings, context, alerts, store)
        stop_simulator = asyncio.Event()
        retention = asyncio.get_running_loop().create_task(
            retention_loop(store, settings, stop_simulator)
        )
        if settings.simulate:
            asyncio.get_running_loop().create_task(
                feed_in_process(context.db, store, stop=stop_simulator, bus=context.bus)
            )
        log.info(
            "sandan.started",
            database=context.db.engine.url.render_as_string(),
            bus=settings.bus_url,
        )
        try:
            yield
        finally:
            stop_simulator.set()
            for worker in workers:
                await worker.stop()
            await retention  # a running deletion ends before the store closes
            await safety.stop()
            await context.bus.stop()
            store.close()

    app = FastAPI(
        title="Sandan",
        version="0.1.0",
        description="Open platform for a smart industrial complex (스마트 산업단지).",
        lifespan=lifespan,
    )
    app.state.sandan = context
    app.state.telemetry_store = store
    app.state.live_hub = hub
    app.state.safety_alerts = alerts
    install_error_handlers(app)
    for router in (
        identity_router,
        registry_router,
        telemetry_router,
        analytics_router,
        sharing_router,
        sharing_files_router,
        remote_sharing_router,
        dsp_router,
        safety_router,
        logistics_router,
        audit_router,
    ):
        app.include_router(router)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        context.metrics.http_requests.labels(request.method, path, str(response.status_code)).inc()
        context.metrics.http_seconds.labels(request.method, path).observe(
            time.perf_counter() - started
        )
        return response

    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    def unknown_api_route(rest: str, request: Request) -> None:
        """Unknown API paths answer in JSON, not with the web pages' HTML 404."""
        raise NotFound(f"no API route {request.method} /api/{rest}")

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    def ready() -> JSONResponse:
        """Readiness: the database answers and the schema is migrated."""
        try:
            with context.db.engine.connect() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "detail": str(exc)[:200]}, status_code=503
            )
        return JSONResponse({"status": "ready", "schema": version})

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        """Prometheus metrics in text format."""
        return Response(context.metrics.render(), media_type="text/plain; version=0.0.4")

    if with_ui:
        from sandan.web.pages import mount_ui

        mount_ui(app, context, store)
    return app
