"""`sandan demo` (seed a demo complex, then serve it) and `sandan serve`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from sandan.cli.common import DataDir, _context, _progress, _settings, app, console
from sandan.settings import Settings

if TYPE_CHECKING:
    from sandan.core.context import Context


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


def _demo_state_rules(session: Any) -> None:
    """Power thresholds for the machines that meter power but send no state."""
    from sandan.analytics.demo import seed_state_rules

    seed_state_rules(session)


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
            _demo_state_rules(session)
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
