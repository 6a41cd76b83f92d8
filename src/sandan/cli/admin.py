"""Host administration: the schema, users, bulk import of companies, the audit log."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sandan.cli.common import (
    DataDir,
    _context,
    _progress,
    _settings,
    _with_bus,
    audit_app,
    console,
    db_app,
    import_app,
    users_app,
)


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
