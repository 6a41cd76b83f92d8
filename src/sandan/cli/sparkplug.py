"""`sandan sparkplug dcmd`: write metrics of a Sparkplug B device through the broker."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape

from sandan.cli.common import DataDir, _context, _mqtt_broker, _settings, app, console

sparkplug_app = typer.Typer(help="Sparkplug B: commands to devices.", no_args_is_help=True)
app.add_typer(sparkplug_app, name="sparkplug")


@sparkplug_app.command("dcmd")
def sparkplug_dcmd(
    device: Annotated[int, typer.Argument(help="Registry id of a Sparkplug device.")],
    metrics: Annotated[
        list[str], typer.Argument(help="NAME=VALUE for each metric (tag) to write, e.g. state=0.")
    ],
    mqtt_url: Annotated[
        str | None, typer.Option(help="Broker (default: SANDAN_MQTT_URL, its TLS settings).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Send a device command (DCMD) setting metrics of a Sparkplug device, by tag name; the
    command is audited. The device's edge node applies it (the simulator's machines do)."""
    import aiomqtt

    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.telemetry.sparkplug.commands import device_command, publish

    writes: dict[str, str] = {}
    for item in metrics:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise typer.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="METRICS")
        writes[name.strip()] = value
    settings = _settings(data_dir)
    broker = _mqtt_broker(settings, mqtt_url)
    principal = Principal.system("cli-dcmd")
    try:
        with _context(settings).db.unit(principal) as session:
            command = device_command(session, principal, device, writes)
            asyncio.run(publish(broker, command))  # inside the unit: unsent, not audited
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {escape(exc.message)}[/]")
        raise typer.Exit(2) from None
    except aiomqtt.MqttError as exc:
        console.print(f"[red]MQTT: {escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    shown = ", ".join(f"{n}={v}" for n, v in command.values.items())
    console.print(f"DCMD to {escape(command.topic)}: {escape(shown)}")
