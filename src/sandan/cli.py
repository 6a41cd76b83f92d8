"""The `sandan` command: demo, serve, db, users, import, audit."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sandan.settings import Settings

if TYPE_CHECKING:
    from sandan.core.context import Context
    from sandan.simulator.run import SimulateConfig
    from sandan.telemetry.csv_import import CsvReport

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


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", data_dir: DataDir = None) -> None:
    """Apply the schema migrations (SQLite or PostgreSQL, by SANDAN_DATABASE_URL)."""
    from sandan.migrate import upgrade

    settings = _settings(data_dir)
    upgrade(settings, revision)
    console.print(f"[green]Schema at {revision}[/] on {settings.resolved_database_url()}")


@db_app.command("current")
def db_current(data_dir: DataDir = None) -> None:
    """Show the schema revision the database is at."""
    from sandan.migrate import current_revision

    ctx = _context(_settings(data_dir))
    console.print(current_revision(ctx.db.engine) or "not migrated")


def _demo_sharing(session: Any, settings: Settings, logins: list[Any]) -> None:
    """Offers and a signed agreement between the two demo companies with admins."""
    from sqlalchemy import select

    from sandan.core.identity.models import User
    from sandan.sharing.demo import seed_sharing
    from sandan.sharing.service.negotiations import Keys

    admins = [login.email for login in logins if login.role == "company_admin"]
    ids = [session.scalar(select(User.company_id).where(User.email == e)) for e in admins]
    keys = Keys(settings.resolved_secret_key(), settings.sharing_fee_rate)
    seed_sharing(session, [i for i in ids if i is not None], keys)


def _demo_safety(session: Any) -> None:
    """Alarm definitions on the gas and temperature sensors, and cameras at the gates."""
    from sandan.core.identity.principal import Principal
    from sandan.safety.demo import seed_safety

    seed_safety(session, Principal.system("demo-seed"))


def _demo_warehouse(session: Any) -> None:
    """The shared warehouse: its floor, today's trucks to receive and a pick list."""
    from sandan.logistics.demo import seed_warehouse_demo

    seed_warehouse_demo(session)


def _demo_hazards(session: Any) -> None:
    """The hazard register of every demo company; shelters and evacuation routes."""
    from sandan.safety.register.demo import seed_hazards

    seed_hazards(session)


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="Port (SANDAN_PORT, 8000).")] = None,
    host: Annotated[str | None, typer.Option(help="Address (SANDAN_HOST, 127.0.0.1).")] = None,
    data_dir: DataDir = None,
    companies: Annotated[int, typer.Option(help="Companies in the demo complex (first run).")] = 60,
) -> None:
    """Seed a demo complex on first run, then serve it with the embedded defaults."""
    from sandan.core.identity.principal import Principal
    from sandan.migrate import upgrade
    from sandan.registry.demo import demo_logins, is_seeded, seed_demo

    settings = _settings(data_dir, port=port, host=host, simulate=True)
    upgrade(settings)
    ctx = _context(settings)
    with ctx.db.unit(Principal.system("demo-seed")) as session:
        first_run = not is_seeded(session)
        if not first_run:
            logins = demo_logins(session)
        else:
            with _progress() as progress:
                task = progress.add_task("Seeding the demo complex", total=companies)
                logins = seed_demo(
                    session, n_companies=companies, progress=lambda n: progress.advance(task, n)
                )
            _demo_sharing(session, settings, logins)
            _demo_hazards(session)
            _demo_safety(session)
            _demo_warehouse(session)
    # The simulator runs inside the server (settings.simulate); on the first run it first
    # writes the last 20 minutes of history, so charts and OEE have data at once.
    if first_run:
        _demo_history(settings, ctx)
        _demo_water(settings, ctx)
    table = Table(
        title="Demo logins (password for all: " + (logins[0].password if logins else "") + ")"
    )
    for column in ("email", "role", "company"):
        table.add_column(column, no_wrap=True)
    for login in logins:
        table.add_row(login.email, login.role, login.company)
    console.print(table)
    url = f"http://{settings.host}:{settings.port}/"
    console.print(f"[bold green]Sandan is running at {url}[/]  (API docs: {url}docs)")
    _serve(settings, ctx)


def _demo_history(settings: Settings, ctx: Context) -> None:
    from datetime import timedelta

    from sandan.simulator.feed import backfill, backfill_steps
    from sandan.telemetry.factory import make_store

    store = make_store(settings)
    history = timedelta(minutes=20)
    try:
        with _progress() as progress:
            task = progress.add_task(
                "Simulating 20 minutes of history", total=backfill_steps(history)
            )
            backfill(ctx.db, store, history, progress=lambda n: progress.advance(task, n))
    finally:
        store.close()


def _demo_water(settings: Settings, ctx: Context) -> None:
    """Water meter history from the WNTR model, with a small leak in one DMA for two nights."""
    from sandan.core.identity.principal import Principal
    from sandan.safety.water.demo import seed_water
    from sandan.telemetry.factory import make_store

    store = make_store(settings)
    try:
        with (
            console.status("Simulating 16 nights of the water network (WNTR)"),
            ctx.db.unit(Principal.system("demo-seed")) as session,
        ):
            seed_water(session, store, nights=16)
    finally:
        store.close()


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (SANDAN_PORT).")] = None,
    host: Annotated[str | None, typer.Option(help="Address (SANDAN_HOST).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the platform with the configured settings (run `sandan db upgrade` first)."""
    from sandan.migrate import current_revision

    settings = _settings(data_dir, port=port, host=host)
    ctx = _context(settings)
    if current_revision(ctx.db.engine) is None:
        console.print("[red]The database has no schema yet: run `sandan db upgrade` first.[/]")
        raise typer.Exit(2)
    console.print(f"Sandan at http://{settings.host}:{settings.port}/")
    _serve(settings, ctx)


def _serve(settings: Settings, ctx: object) -> None:
    import uvicorn

    from sandan.app import create_app
    from sandan.core.context import Context
    from sandan.core.logging import configure_logging

    assert isinstance(ctx, Context)
    configure_logging(settings.log_json)
    uvicorn.run(
        create_app(settings, ctx=ctx), host=settings.host, port=settings.port, log_level="warning"
    )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    role: Annotated[
        str,
        typer.Option(
            help="complex_operator, company_admin, company_member, "
            "safety_operator, logistics_operator or auditor"
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    company_brn: Annotated[
        str | None, typer.Option(help="Company (by BRN) for company roles.")
    ] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a user (as the host's operator)."""
    from sqlalchemy import select

    from sandan.core.errors import SandanError
    from sandan.core.identity import service
    from sandan.core.identity.principal import Principal
    from sandan.registry.models import Company
    from sandan.registry.validators import normalize_brn

    ctx = _context(_settings(data_dir))
    principal = Principal.system("cli")
    try:
        with ctx.db.unit(principal) as session:
            company_id = None
            if company_brn:
                company_id = session.scalar(
                    select(Company.id).where(Company.brn == normalize_brn(company_brn))
                )
                if company_id is None:
                    raise typer.BadParameter(f"no company with BRN {company_brn}")
            user = service.create_user(
                session,
                principal,
                email=email,
                name=name or email,
                password=password,
                role=role,
                company_id=company_id,
            )
            console.print(f"[green]Created user {user.id} {user.email} ({user.role})[/]")
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None


@users_app.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List users."""
    from sqlalchemy import select

    from sandan.core.identity.models import User

    ctx = _context(_settings(data_dir))
    table = Table("id", "email", "role", "company_id", "active", "last login")
    with ctx.db.unit() as session:
        for user in session.scalars(select(User).order_by(User.id)):
            table.add_row(
                str(user.id),
                user.email,
                user.role,
                str(user.company_id or "—"),
                "yes" if user.active else "no",
                str(user.last_login_at or "—"),
            )
    console.print(table)


@users_app.command("set-password")
def users_set_password(
    email: str,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Reset a user's password and lift any login throttle."""
    from sqlalchemy import select

    from sandan.core.identity import service
    from sandan.core.identity.models import User
    from sandan.core.identity.principal import Principal

    ctx = _context(_settings(data_dir))
    principal = Principal.system("cli")
    with ctx.db.unit(principal) as session:
        user = session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            console.print(f"[red]No user {email}[/]")
            raise typer.Exit(1)
        service.update_user(session, principal, user.id, password=password)
        user.locked_until = None
        user.failed_logins = 0
    console.print(f"[green]Password of {email} changed[/]")


@users_app.command("deactivate")
def users_deactivate(email: str, data_dir: DataDir = None) -> None:
    """Deactivate a user; their sessions and tokens stop working."""
    from sqlalchemy import select

    from sandan.core.identity.models import User
    from sandan.core.identity.principal import Principal

    ctx = _context(_settings(data_dir))
    with ctx.db.unit(Principal.system("cli")) as session:
        user = session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            console.print(f"[red]No user {email}[/]")
            raise typer.Exit(1)
        user.active = False
    console.print(f"[green]{email} deactivated[/]")


@import_app.command("companies")
def import_companies(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="UTF-8 CSV file.")],
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected lines.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Import companies and sites from CSV; bad lines are reported and written to a rejects file."""
    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.registry.importer import ImportReport, write_rejects
    from sandan.registry.importer import import_companies as run_import

    ctx = _context(_settings(data_dir))
    text = file.read_text(encoding="utf-8-sig")
    total = max(text.count("\n") - 1, 1)
    principal = Principal.system("cli-import")

    def work() -> ImportReport:
        with ctx.db.unit(principal) as session, _progress() as progress:
            task = progress.add_task(f"Importing {file.name}", total=total)
            report = run_import(
                session,
                principal,
                io.StringIO(text),
                filename=file.name,
                progress=lambda n: progress.advance(task, n),
            )
            progress.update(task, completed=total)
        return report

    try:
        report = _with_bus(ctx, work)
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None
    if report.problems:
        table = Table("line", "field", "reason", "brn", title="Rejected lines")
        for p in report.problems[:200]:
            table.add_row(str(p.line), p.field, p.reason, p.brn)
        console.print(table)
        if len(report.problems) > 200:
            console.print(f"… and {len(report.problems) - 200} more problems")
        target = rejects or file.with_suffix(".rejects.csv")
        write_rejects(report, target)
        console.print(f"Rejected lines written to {target}")
    console.print(
        f"[green]{report.companies_created} companies and {report.sites_created} sites imported[/],"
        f" {report.rejected} of {report.rows_total} lines rejected, in {report.seconds:.2f} s "
        f"(import run {report.run_id})"
    )


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Recompute the audit hash chain; exits 1 if any entry was edited or deleted."""
    from sandan.core.audit.service import verify

    ctx = _context(_settings(data_dir))
    with ctx.db.unit() as session:
        report = verify(session)
    if report.ok:
        console.print(f"[green]Audit log intact: {report.checked} entries verified[/]")
        return
    for seq, reason in report.problems[:50]:
        console.print(f"[red]entry {seq}: {reason}[/]")
    console.print(
        f"[red]Audit log TAMPERED: {len(report.problems)} problem(s) in {report.checked} entries[/]"
    )
    raise typer.Exit(1)


@ingest_app.command("mqtt")
def ingest_mqtt(
    group: Annotated[
        str, typer.Option(help="Shared-subscription group of the workers.")
    ] = "sandan",
    client_id: Annotated[
        str | None, typer.Option(help="Fixed MQTT client id: the broker keeps its session.")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on this port (default: off).")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port.")] = "127.0.0.1",
    data_dir: DataDir = None,
) -> None:
    """Run an MQTT ingest worker until SIGTERM/SIGINT; run several against one PostgreSQL."""
    import signal

    from sandan.core.bus import Event
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.mqtt import MqttIngest

    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
    worker = MqttIngest(ctx.db, store, settings.mqtt_url, group=group or None, client_id=client_id)
    _serve_metrics(ctx, metrics_port, metrics_host)

    async def refresh(_event: Event) -> None:
        worker.directory.invalidate()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: loop.create_task(worker.stop()))
        ctx.bus.subscribe("registry.>", refresh)
        await ctx.bus.start()
        console.print(f"MQTT ingest worker on {settings.mqtt_url} ({worker.subscription})")
        try:
            await worker.run()
        finally:
            await ctx.bus.stop()
            store.close()
        console.print(
            f"stopped: {worker.stats.messages} messages, {worker.stats.stored} "
            f"readings stored, {worker.stats.rejected} rejected"
        )

    asyncio.run(run())


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
        console.print(banner())
        try:
            await task
        finally:
            await ctx.bus.stop()
            close()
        console.print(summary())

    asyncio.run(run())


@ingest_app.command("sparkplug")
def ingest_sparkplug(
    url: Annotated[
        str | None,
        typer.Option(help="Broker, mqtt://[user:password@]host[:port] (SANDAN_MQTT_URL)."),
    ] = None,
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
    client_id: Annotated[
        str | None, typer.Option(help="Fixed MQTT client id: the broker keeps its session.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run a Sparkplug B host application that stores what edge nodes send, until
    SIGTERM/SIGINT. Devices map by external_id "<group>/<edge node>[/<device>]"."""
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.sparkplug.worker import SparkplugIngest

    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
    broker = url or settings.mqtt_url
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
    _run_ingest_worker(
        ctx,
        store.close,
        worker,
        worker.directory.invalidate,
        lambda: (
            f"Sparkplug B ingest worker on {broker} as host {host_id!r} "
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
    data_dir: DataDir = None,
) -> None:
    """Read every enabled OPC UA device of the registry (external_id = its opc.tcp:// endpoint,
    tags by source_address) and store the values, until SIGTERM/SIGINT."""
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.opcua_worker import OpcUaIngest

    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
    worker = OpcUaIngest(ctx.db, store, reload_s=reload)
    stats = worker.stats
    _run_ingest_worker(
        ctx,
        store.close,
        worker,
        worker.invalidate,
        lambda: f"OPC UA ingest worker: {len(worker.sources)} endpoint(s) from the registry",
        lambda: (
            f"stopped: {stats.received} values, {stats.stored} readings stored, "
            f"{stats.rejected} rejected"
        ),
    )


@app.command()
def simulate(
    protocol: Annotated[str, typer.Option(help="json (MQTT), sparkplug or http.")] = "json",
    mqtt_url: Annotated[
        str | None, typer.Option(help="Broker, mqtt://host:port or mqtt://user:password@host.")
    ] = None,
    qos: Annotated[int, typer.Option(help="JSON over MQTT: QoS 0 or 1.")] = 0,
    api_url: Annotated[str, typer.Option(help="Platform URL (HTTP).")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(envvar="SANDAN_SIMULATE_TOKEN", help="HTTP: API token or device key."),
    ] = None,
    opcua: Annotated[int, typer.Option(help="Serve this many OPC UA machines.")] = 0,
    opcua_port: Annotated[int, typer.Option(help="Seeding: first OPC UA server port.")] = 48400,
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
    data_dir: DataDir = None,
) -> None:
    """Publish simulated machine and sensor readings for the registry's devices over MQTT
    (JSON or Sparkplug B) or HTTP, and serve OPC UA machines, until stopped."""
    if protocol not in ("json", "sparkplug", "http"):
        raise typer.BadParameter("json, sparkplug or http", param_hint="--protocol")
    settings = _settings(data_dir)
    if seed_registry:
        _seed_simulated(settings, protocol, factories, tags_per_factory, (opcua, opcua_port))
    if duration == 0:  # seeding only
        return
    from sandan.simulator.run import SimulateConfig

    config = SimulateConfig(
        protocol=protocol,
        mqtt_url=mqtt_url or settings.mqtt_url,
        qos=qos,
        api_url=api_url,
        token=token,
        opcua=opcua,
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
        for note in report.notes:
            console.print(f"[yellow]{note}[/]")
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


def _serve_metrics(ctx: Context, port: int | None, host: str) -> None:
    """Expose this worker's Prometheus metrics (the ingest counters) on host:port."""
    if port is None:
        return
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=ctx.metrics.registry)
    console.print(f"metrics on http://{host}:{port}/metrics")


def _ingest_summary(report: CsvReport) -> None:
    """Rejected rows (first 50) and the counts of a CSV backfill."""
    if report.rejects:
        table = Table("line", "field", "reason", "reading", title="Rejected rows")
        for row in report.rejects[:50]:
            table.add_row(str(row.get("line")), row["field"], row["reason"], str(row["reading"]))
        console.print(table)
        if report.rejected > 50:
            console.print(f"… {report.rejected - 50} more in dead letter {report.dead_letter_id}")
    quality = ", ".join(f"{n} {name}" for name, n in report.quality.items() if n)
    console.print(
        f"[green]{report.stored} readings stored[/] ({quality or 'none accepted'}), "
        f"{report.duplicates} duplicates, {report.rejected} of {report.received} rows rejected"
        + (f" (dead letter {report.dead_letter_id})" if report.dead_letter_id else "")
    )


@telemetry_app.command("import-csv")
def telemetry_import_csv(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: tag (or tag_id), ts, value.")
    ],
    device: Annotated[int, typer.Option(help="The device whose tags the file names.")],
    data_dir: DataDir = None,
) -> None:
    """Backfill history from CSV straight into the configured store (no late-arrival window):
    bad rows are listed by line and kept as a dead letter, the rest stored. With DuckDB stop
    the server first (one process holds the file), or upload to /readings.csv instead."""
    from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.telemetry.csv_import import import_csv_file
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.retention import raw_retention

    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    rows = TextColumn("{task.fields[rows]:,} rows")
    try:
        with Progress(
            *columns, TransferSpeedColumn(), rows, TimeRemainingColumn(), console=console
        ) as progress:
            task = progress.add_task(f"Importing {file.name}", total=file.stat().st_size, rows=0)
            report = _with_bus(
                ctx,
                lambda: import_csv_file(
                    ctx.db,
                    store,
                    file,
                    device_id=device,
                    principal=Principal.system("cli-import"),
                    raw_retention=raw_retention(settings),
                    progress=lambda n, done: progress.update(task, completed=done, rows=n),
                ),
            )
            progress.update(task, completed=file.stat().st_size)
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        store.close()
    _ingest_summary(report)


@telemetry_app.command("replay")
def telemetry_replay(
    letter_ids: Annotated[list[int] | None, typer.Argument(help="Dead letter ids.")] = None,
    device: Annotated[
        int | None, typer.Option(help="Replay every letter of this device that holds rows.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run dead letters through refining again (after creating the missing tag, fixing a
    range, enabling the device): readings that pass now are stored, the rest stay."""
    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.replay import ReplayReport, replay, replayable_letters
    from sandan.telemetry.retention import raw_retention

    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
    principal = Principal.system("cli-replay")

    def work() -> list[ReplayReport]:
        with ctx.db.unit(principal) as session:
            ids = list(letter_ids or []) + (
                replayable_letters(session, principal, device_id=device) if device else []
            )
        reports = []
        for letter_id in dict.fromkeys(ids):  # each in its own unit: one failure keeps others
            with ctx.db.unit(principal) as session:
                reports.append(
                    replay(
                        session,
                        principal,
                        store,
                        letter_id,
                        raw_retention=raw_retention(settings),
                    )
                )
        return reports

    try:
        reports = _with_bus(ctx, work)
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        store.close()
    table = Table("letter", "tried", "stored", "still rejected", "not replayable", "reasons now")
    for r in reports:
        reasons = "; ".join(f"{k} ×{v}" for k, v in r.reasons.items())
        cells = (r.replayed, r.stored, r.rejected, r.skipped)
        table.add_row(str(r.dead_letter_id), *(str(c) for c in cells), reasons or "-")
    console.print(table if reports else "No dead letters to replay.")


@telemetry_app.command("retention")
def telemetry_retention(
    raw_days: Annotated[
        int | None, typer.Option(min=1, help="Raw readings (SANDAN_RETENTION_RAW_DAYS).")
    ] = None,
    minute_days: Annotated[
        int | None,
        typer.Option("--1m-days", min=1, help="1-minute rollups (SANDAN_RETENTION_1M_DAYS)."),
    ] = None,
    hour_days: Annotated[
        int | None,
        typer.Option("--1h-days", min=1, help="1-hour rollups (SANDAN_RETENTION_1H_DAYS)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Delete readings and rollups older than the retention ages (for cron); options override
    the settings. With DuckDB run it while the server is stopped, or let the server do it."""
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.retention import apply_retention, retention_policy

    settings = _settings(
        data_dir,
        retention_raw_days=raw_days,
        retention_1m_days=minute_days,
        retention_1h_days=hour_days,
    )
    keep = retention_policy(settings)
    if not keep:
        console.print("No retention set: everything is kept.")
        return
    store = make_store(settings)
    try:
        deleted = apply_retention(store, keep)
    finally:
        store.close()
    for resolution, age in keep.items():
        console.print(f"{resolution}: older than {age.days} days, {deleted[resolution]:,} deleted")


@mqtt_app.command("acl")
def mqtt_acl(
    out: Annotated[Path, typer.Option(help="Directory for password_file and acl_file.")],
    rotate: Annotated[
        list[str] | None,
        typer.Option(help="Give this login a new password (device-7, sandan-ingest; repeat)."),
    ] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="Also write the new passwords to this CSV (mode 0600).")
    ] = None,
    hasher: Annotated[
        str, typer.Option(help="auto (mosquitto_passwd when installed), mosquitto_passwd, python")
    ] = "auto",
    data_dir: DataDir = None,
) -> None:
    """Write Mosquitto's password_file and acl_file for the registry's MQTT and Sparkplug
    devices: each may publish only its own topics. New passwords are shown once."""
    import csv
    import os

    from sandan.telemetry.broker import Hasher, write_broker_files

    hashers: dict[str, Hasher] = {h: h for h in ("auto", "mosquitto_passwd", "python")}
    if hasher not in hashers:
        raise typer.BadParameter("auto, mosquitto_passwd or python", param_hint="--hasher")
    ctx = _context(_settings(data_dir))
    try:
        with ctx.db.unit() as session:
            files = write_broker_files(session, out, rotate=rotate or (), hasher=hashers[hasher])
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for warning in files.warnings:
        console.print(f"[yellow]{warning}[/]")
    if files.new:
        table = Table("username", "password (shown once)", "device", "company", title="New logins")
        for n in files.new:
            table.add_row(n.username, n.password, str(n.device_id or "-"), str(n.company_id or "-"))
        console.print(table)
    if credentials is not None and files.new:
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["username", "password", "device_id", "company_id"])
            writer.writerows((n.username, n.password, n.device_id, n.company_id) for n in files.new)
        console.print(f"New passwords also written to {credentials}")
    console.print(
        f"[green]{files.logins} logins[/] ({len(files.new)} new, {files.kept} kept, "
        f"{len(files.removed)} removed) in {out}; reload Mosquitto (SIGHUP) to apply"
    )


@sharing_app.command("settle")
def sharing_settle(
    period: Annotated[str, typer.Argument(help="The billing month, YYYY-MM (Korean time).")],
    data_dir: DataDir = None,
) -> None:
    """Settle a month as the system, at the settings' fee rate (SANDAN_SHARING_FEE_RATE):
    subscriptions and metered rows become balanced ledger postings. A settled month posts
    nothing new, so the command is safe to repeat (cron)."""
    from sqlalchemy import case, func, select

    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.sharing.models import LedgerEntry, LedgerTransaction
    from sandan.sharing.service import ledger

    settings = _settings(data_dir)
    ctx = _context(settings)
    principal = Principal.system("cli-settle")
    fee = case((LedgerEntry.account == ledger.PLATFORM_ACCOUNT, LedgerEntry.credit_krw), else_=0)
    try:
        with ctx.db.unit(principal) as session:
            report = ledger.settle_month(
                session, principal, period, fee_rate=settings.sharing_fee_rate
            )
            posted = session.execute(
                select(LedgerTransaction.kind, func.count(func.distinct(LedgerTransaction.id)))
                .add_columns(func.sum(fee))
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .where(LedgerTransaction.id.in_(report.transaction_ids))
                .group_by(LedgerTransaction.kind)
            ).all()
    except SandanError as exc:
        console.print(f"[red]{exc.body()['error']}: {exc.message}[/]")
        raise typer.Exit(1) from None
    counts = {kind: (int(n), int(fees or 0)) for kind, n, fees in posted}
    counts["total"] = (report.posted, sum(fees for _, fees in counts.values()))
    table = Table("charge", "transactions", "charged KRW", "platform fee KRW", "to providers KRW")
    table.title = f"Settlement of {report.period} (fee rate {settings.sharing_fee_rate:.2%})"
    for kind, amount in [*report.by_kind.items(), ("total", report.total_krw)]:
        n, fees = counts.get(kind, (0, 0))
        table.add_row(kind, f"{n:,}", f"{amount:,}", f"{fees:,}", f"{amount - fees:,}")
    console.print(table)
    if report.posted:
        console.print(f"[green]Posted {report.posted} transactions, {report.total_krw:,} KRW[/]")
    else:
        console.print(
            f"[yellow]Nothing new to post for {report.period}: already settled, or no "
            "subscription or metered usage in force that month[/]"
        )


@sharing_app.command("ledger-check")
def sharing_ledger_check(data_dir: DataDir = None) -> None:
    """Check that every ledger transaction balances (debits = credits); exits 1 if any does
    not, which means the ledger was written around the platform."""
    from sqlalchemy import func, select

    from sandan.sharing.models import LedgerTransaction
    from sandan.sharing.service import ledger

    ctx = _context(_settings(data_dir))
    with ctx.db.unit() as session:
        bad = ledger.unbalanced(session)
        checked = session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0
    if not bad:
        console.print(f"[green]Ledger balanced: {checked:,} transactions checked[/]")
        return
    shown = ", ".join(str(i) for i in bad[:50]) + (" …" if len(bad) > 50 else "")
    console.print(f"[red]Ledger UNBALANCED: {len(bad)} of {checked:,} transactions: {shown}[/]")
    raise typer.Exit(1)


def main() -> None:
    app()
