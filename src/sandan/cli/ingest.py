"""`sandan ingest`: long-running MQTT, Sparkplug B and OPC UA ingest workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sandan.cli.common import DataDir, _context, _mqtt_broker, _settings, console, ingest_app

if TYPE_CHECKING:
    from sandan.core.context import Context

MetricsPort = Annotated[
    int | None, typer.Option(help="Serve Prometheus /metrics on this port (default: off).")
]
MetricsHost = Annotated[str, typer.Option(help="Address for --metrics-port.")]
ClientId = Annotated[
    str | None, typer.Option(help="Fixed MQTT client id: the broker keeps its session.")
]
BrokerUrl = Annotated[
    str | None,
    typer.Option(
        help="Broker, mqtt://[user:password@]host[:1883] or mqtts://… (TLS, :8883; CA and "
        "client certificate from SANDAN_MQTT_CA_FILE, _CERT_FILE, _KEY_FILE) "
        "(default: SANDAN_MQTT_URL)."
    ),
]


@ingest_app.command("mqtt")
def ingest_mqtt(
    url: BrokerUrl = None,
    group: Annotated[
        str, typer.Option(help="Shared-subscription group of the workers.")
    ] = "sandan",
    client_id: ClientId = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
    data_dir: DataDir = None,
) -> None:
    """Run an MQTT ingest worker until SIGTERM/SIGINT; run several against one PostgreSQL."""
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.mqtt import MqttIngest

    settings = _settings(data_dir)
    broker = _mqtt_broker(settings, url)
    ctx = _context(settings)
    store = make_store(settings)
    worker = MqttIngest(ctx.db, store, broker, group=group or None, client_id=client_id)
    stats = worker.stats
    _serve_metrics(ctx, metrics_port, metrics_host)
    _run_ingest_worker(
        ctx,
        store.close,
        worker,
        worker.directory.invalidate,
        lambda: f"MQTT ingest worker on {broker.describe()} ({worker.subscription})",
        lambda: (
            f"stopped: {stats.messages} messages, {stats.stored} readings stored, "
            f"{stats.rejected} rejected"
        ),
    )


def _run_ingest_worker(
    ctx: Context,
    close: Callable[[], None],
    worker: Any,
    on_registry_change: Callable[[], None],
    banner: Callable[[], str],
    summary: Callable[[], str],
) -> None:
    """Run an ingest worker (`run()`/`stop()`/`ready`) until SIGTERM/SIGINT, with the bus
    started and registry events reloading its lookup tables."""
    import signal

    from sandan.core.bus import Event

    async def refresh(_event: Event) -> None:
        on_registry_change()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: loop.create_task(worker.stop()))
        ctx.bus.subscribe("registry.>", refresh)
        await ctx.bus.start()
        task = asyncio.create_task(worker.run())
        ready = asyncio.create_task(worker.ready.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        console.print(banner(), soft_wrap=True)  # one line, however long the paths in it
        try:
            await task
        finally:
            await ctx.bus.stop()
            close()
        console.print(summary())

    asyncio.run(run())


@ingest_app.command("sparkplug")
def ingest_sparkplug(
    url: BrokerUrl = None,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Sparkplug group id to take (repeat for several; default: all)."),
    ] = None,
    share: Annotated[
        str | None,
        typer.Option(help="MQTT 5 shared-subscription group: workers split NDATA/DDATA."),
    ] = None,
    host_id: Annotated[str, typer.Option(help="Sparkplug host application id (STATE).")] = (
        "sandan"
    ),
    client_id: ClientId = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
    data_dir: DataDir = None,
) -> None:
    """Run a Sparkplug B host application that stores what edge nodes send, until
    SIGTERM/SIGINT. Devices map by external_id "<group>/<edge node>", or
    "<group>/<edge node>/<device>" for a device behind the node."""
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.sparkplug.worker import SparkplugIngest

    settings = _settings(data_dir)
    broker = _mqtt_broker(settings, url)
    ctx = _context(settings)
    store = make_store(settings)
    worker = SparkplugIngest(
        ctx.db,
        store,
        broker,
        host_id=host_id,
        groups=group or None,
        share_group=share,
        client_id=client_id,
    )
    stats = worker.stats
    _serve_metrics(ctx, metrics_port, metrics_host)
    _run_ingest_worker(
        ctx,
        store.close,
        worker,
        worker.directory.invalidate,
        lambda: (
            f"Sparkplug B ingest worker on {broker.describe()} as host {host_id!r} "
            f"({', '.join(worker.subscriptions)})"
        ),
        lambda: (
            f"stopped: {stats.messages} messages, {stats.points} data points, "
            f"{stats.stored} readings stored, {stats.rejected} rejected, "
            f"{stats.rebirths_requested} rebirths requested"
        ),
    )


@ingest_app.command("opcua")
def ingest_opcua(
    reload: Annotated[
        float, typer.Option(help="Seconds between registry reloads (also on registry events).")
    ] = 10.0,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
    data_dir: DataDir = None,
) -> None:
    """Read every enabled OPC UA device of the registry (external_id = its opc.tcp:// endpoint,
    tags by source_address) and store the values, until SIGTERM/SIGINT."""
    from rich.markup import escape

    from sandan.telemetry.factory import make_store
    from sandan.telemetry.opcua_security import SecurityConfigError, load_opcua_security
    from sandan.telemetry.opcua_worker import OpcUaIngest

    settings = _settings(data_dir)
    try:
        security = load_opcua_security(settings)
    except SecurityConfigError as exc:
        console.print(f"[red]OPC UA security: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    ctx = _context(settings)
    store = make_store(settings)
    worker = OpcUaIngest(ctx.db, store, reload_s=reload, security=security, metrics=ctx.metrics)
    stats = worker.stats
    _serve_metrics(ctx, metrics_port, metrics_host)
    _run_ingest_worker(
        ctx,
        store.close,
        worker,
        worker.invalidate,
        lambda: f"OPC UA ingest worker: {len(worker.sources)} endpoint(s) from the registry",
        lambda: (
            f"stopped: {stats.received} values, {stats.stored} readings stored, "
            f"{stats.rejected} rejected"
            + "".join(f", {n} refused: {why}" for why, n in sorted(stats.refusals.items()))
        ),
    )


def _serve_metrics(ctx: Context, port: int | None, host: str) -> None:
    """Expose this worker's Prometheus metrics (the ingest counters) on host:port."""
    if port is None:
        return
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=ctx.metrics.registry)
    console.print(f"metrics on http://{host}:{port}/metrics")
