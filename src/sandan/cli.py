"""The `sandan` command: demo, serve, db, users, import, audit."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sandan.settings import Settings

if TYPE_CHECKING:
    from sandan.core.context import Context

T = TypeVar("T")

app = typer.Typer(
    help="Sandan — open platform for a smart industrial complex.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk onboarding from files.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest workers for devices.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
app.add_typer(ingest_app, name="ingest")
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
    from sandan.core.context import Context

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
    # The simulator runs inside the server (settings.simulate); on the first run it first
    # writes the last 20 minutes of history, so charts and OEE have data at once.
    if first_run:
        _demo_history(settings, ctx)
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


def main() -> None:
    app()
