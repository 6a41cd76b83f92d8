"""What every `sandan` command shares: the Typer apps, the console, settings, the context
and the bus around blocking work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sandan.settings import Settings

if TYPE_CHECKING:
    from sandan.core.context import Context
    from sandan.core.mqtt import Broker

T = TypeVar("T")

app = typer.Typer(
    help="Sandan — open platform for a smart industrial complex.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk onboarding from files.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest workers for devices.", no_args_is_help=True)
telemetry_app = typer.Typer(
    help="Telemetry: CSV backfill, dead-letter replay, retention.", no_args_is_help=True
)
mqtt_app = typer.Typer(help="The MQTT broker: device logins and ACL.", no_args_is_help=True)
sharing_app = typer.Typer(
    help="Data sharing: monthly settlement, the ledger's integrity.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
app.add_typer(ingest_app, name="ingest")
app.add_typer(telemetry_app, name="telemetry")
app.add_typer(mqtt_app, name="mqtt")
app.add_typer(sharing_app, name="sharing")
console = Console(width=None if sys.stdout.isatty() else 120)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (SANDAN_DATA_DIR).")
]


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


def _mqtt_broker(settings: Settings, url: str | None) -> Broker:
    """The broker at `url` (default SANDAN_MQTT_URL) with the TLS settings, its context made
    now: a bad URL or TLS file ends the command naming the setting (exit 2)."""
    from rich.markup import escape

    from sandan.core.mqtt import MqttConfigError, mqtt_broker

    try:
        broker = mqtt_broker(settings, url)
        broker.ssl_context  # noqa: B018 - reads the CA and key files
    except MqttConfigError as exc:
        console.print(f"[red]MQTT: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    return broker


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _context(settings: Settings) -> Context:
    """The process's parts; every batch a command stores is also evaluated for alarms, as in
    the server (ingest workers, CSV import and replay raise alarms like HTTP ingest)."""
    from sandan.core.context import Context
    from sandan.safety.alarms.evaluate import evaluate_batch
    from sandan.telemetry.observers import register

    register(evaluate_batch)
    return Context.build(settings)


def _with_bus(ctx: Context, work: Callable[[], T]) -> T:
    """Run blocking work with the bus started, so events its commits raise are delivered
    (to NATS, for the other processes) before the command exits."""

    async def main() -> T:
        await ctx.bus.start()
        try:
            return await asyncio.to_thread(work)
        finally:
            await ctx.bus.stop()

    return asyncio.run(main())
