"""`sandan simulate`: publish simulated readings for the registry's devices."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sandan.cli.common import (
    DataDir,
    _context,
    _mqtt_broker,
    _progress,
    _settings,
    app,
    console,
)
from sandan.settings import Settings

if TYPE_CHECKING:
    from sandan.simulator.run import SimulateConfig


@app.command()
def simulate(
    protocol: Annotated[str, typer.Option(help="json (MQTT), sparkplug or http.")] = "json",
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            help="Broker, mqtt://[user:password@]host[:1883] or mqtts://… (TLS, :8883, with the "
            "SANDAN_MQTT_* TLS settings) (default: SANDAN_MQTT_URL)."
        ),
    ] = None,
    qos: Annotated[int, typer.Option(help="JSON over MQTT: QoS 0 or 1.")] = 0,
    api_url: Annotated[str, typer.Option(help="Platform URL (HTTP).")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(envvar="SANDAN_SIMULATE_TOKEN", help="HTTP: API token or device key."),
    ] = None,
    opcua: Annotated[int, typer.Option(help="Serve this many OPC UA machines.")] = 0,
    opcua_port: Annotated[int, typer.Option(help="Seeding: first OPC UA server port.")] = 48400,
    opcua_secure: Annotated[
        bool,
        typer.Option(help="OPC UA servers require Basic256Sha256/SignAndEncrypt and a login."),
    ] = False,
    rate: Annotated[float, typer.Option(help="Seconds between steps.")] = 1.0,
    duration: Annotated[float | None, typer.Option(help="Stop after seconds.")] = None,
    seed_registry: Annotated[
        bool, typer.Option(help="Seed an empty registry with the simulated complex first.")
    ] = False,
    factories: Annotated[int, typer.Option(help="Seeding: companies (2000: Gumi).")] = 60,
    tags_per_factory: Annotated[
        int | None, typer.Option(help="Seeding: tags per company (50: 100,000 at 2000).")
    ] = None,
    device: Annotated[
        list[int] | None, typer.Option(help="Only this device id (repeat for several).")
    ] = None,
    primary_host: Annotated[
        str | None,
        typer.Option(
            help="Sparkplug: edge nodes birth only while this host application's STATE is "
            "online (default: SANDAN_SPARKPLUG_HOST_ID; '' not to wait for one)."
        ),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            help="Publish recorded readings instead: a raw Parquet export or a CSV (tag_id, or "
            "tag with a device_id column or --device; ts; value), over json or http.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="Replay: times faster than recorded.")] = 1.0,
    loop: Annotated[bool, typer.Option(help="Replay: start over after the last one.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Publish simulated machine and sensor readings for the registry's devices over MQTT
    (JSON or Sparkplug B) or HTTP, and serve OPC UA machines, until stopped; or replay
    recorded readings (--replay)."""
    if protocol not in ("json", "sparkplug", "http"):
        raise typer.BadParameter("json, sparkplug or http", param_hint="--protocol")
    settings = _settings(data_dir)
    if seed_registry:
        _seed_simulated(settings, protocol, factories, tags_per_factory, (opcua, opcua_port))
    if duration == 0:  # seeding only
        return
    mqtt = _mqtt_broker(settings, mqtt_url) if protocol != "http" else settings.mqtt_url
    if replay is not None:
        from sandan.cli.simulation_replay import ReplayOptions, run_replay

        run_replay(settings, ReplayOptions(replay, protocol, mqtt, qos, api_url, token, speed,
                                           loop, device[0] if device else None))  # fmt: skip
        return
    from sandan.simulator.opcua_server import server_security
    from sandan.simulator.run import SimulateConfig

    secured = opcua > 0 and opcua_secure
    config = SimulateConfig(
        protocol=protocol,
        mqtt_url=mqtt,
        qos=qos,
        primary_host=(settings.sparkplug_host_id if primary_host is None else primary_host) or None,
        api_url=api_url,
        token=token,
        opcua=opcua,
        opcua_security=server_security(_simulator_dir(settings)) if secured else None,
        rate=rate,
        duration=duration,
        devices=frozenset(device) if device else None,
    )
    _run_simulation(settings, config)


def _seed_simulated(
    settings: Settings, protocol: str, factories: int, tags: int | None, opcua: tuple[int, int]
) -> None:
    from sandan.migrate import upgrade
    from sandan.registry.demo import DEMO_PASSWORD
    from sandan.simulator.scale import seed_registry

    upgrade(settings)
    with _progress() as progress:
        task = progress.add_task(f"Seeding {factories} factories", total=factories)
        seeded = seed_registry(
            _context(settings).db,
            protocol,
            factories,
            tags,
            opcua[0],
            progress=lambda n: progress.advance(task, n),
            opcua_port=opcua[1],
        )
    if seeded:
        console.print(f"Seeded; log in as operator@sandan.example, password {DEMO_PASSWORD}")
    else:
        console.print("The registry already has a complex: publishing for its devices.")


def _simulator_dir(settings: Settings) -> Path:
    path = settings.data_dir / "opcua" / "simulator"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secured_note(settings: Settings, config: SimulateConfig, endpoints: list[str]) -> str:
    """Write the collector's security file for the served machines; say how to use it."""
    from sandan.simulator.opcua_server import collector_file
    from sandan.telemetry.opcua_security import trusted_dir

    security = config.opcua_security
    assert security is not None
    path = collector_file(_simulator_dir(settings) / "collector.toml", endpoints, security)
    return (
        f"OPC UA servers need Basic256Sha256/SignAndEncrypt and user {security.username}. "
        f"Collector: SANDAN_OPCUA_SECURITY_FILE={path}; trust the servers by copying "
        f"{security.certificate.cert_path} into {trusted_dir(settings)}"
    )


def _run_simulation(settings: Settings, config: SimulateConfig) -> None:
    import math
    import signal

    from sandan.simulator.run import Report, Simulation, SimulationError, stored_latest

    ctx = _context(settings)
    try:
        sim = Simulation(ctx.db, config, latest=lambda ids: stored_latest(settings, ids))
    except SimulationError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None

    async def start() -> Report:
        if config.opcua:
            with _progress() as progress:
                task = progress.add_task("Starting OPC UA servers", total=config.opcua)
                await sim.prepare(lambda n: progress.advance(task, n))
        else:
            await sim.prepare()
        report = sim.report
        if config.opcua_security is not None and sim.machines:
            endpoints = [m.endpoint for m in sim.machines]
            report.notes.append(_secured_note(settings, config, endpoints))
        for note in report.notes:
            console.print(f"[yellow]{escape(note)}[/]")
        console.print(
            f"{report.devices} devices, {report.tags} tags over {config.protocol}"
            + (f"; {report.served} OPC UA servers" if report.served else "")
        )
        return report

    async def run() -> Report:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        steps = None if config.duration is None else math.ceil(config.duration / config.rate)
        try:
            await start()
            with _progress() as progress:
                task = progress.add_task("Publishing", total=steps)

                def advance(r: Report) -> None:
                    sent = sim.publisher.stats.messages if sim.publisher else 0
                    progress.update(task, advance=1, description=f"Publishing ({sent} messages)")

                return await sim.run(stop, advance)
        finally:
            await sim.close()

    try:
        report = asyncio.run(run())
    except SimulationError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    parts = [f"stopped after {report.steps} steps"]
    stats = sim.publisher.stats if sim.publisher else None
    if stats:
        parts.append(f"{stats.messages} messages, {stats.readings} readings, {stats.errors} errors")
    if report.served:
        parts.append(f"{report.served_values} OPC UA values")
    parts.append(f"slowest step {report.slowest:.2f} s")
    if report.behind:
        parts.append(f"{report.behind} steps started late (raise --rate)")
    console.print("; ".join(parts))
    if stats and stats.errors:
        console.print(f"[yellow]last error: {stats.last_error}[/]")
