"""`sandan telemetry` (CSV backfill, dead-letter replay, retention) and `sandan mqtt`
(the broker's logins and ACL)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from sandan.cli.common import (
    DataDir,
    _context,
    _settings,
    _with_bus,
    console,
    mqtt_app,
    telemetry_app,
)

if TYPE_CHECKING:
    from sandan.telemetry.csv_import import CsvReport


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
    url: Annotated[
        str | None,
        typer.Option(help="Send to this running Sandan over HTTP (https://host) instead."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SANDAN_API_TOKEN",
            help="With --url: an API token of a user who may write the device, or its key.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Backfill history from CSV straight into the configured store (no late-arrival window):
    bad rows are listed by line and kept as a dead letter, the rest stored. With DuckDB stop
    the server first (one process holds the file), or send it to the server with --url."""
    from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

    from sandan.core.errors import SandanError
    from sandan.core.identity.principal import Principal
    from sandan.telemetry.csv_import import import_csv_file
    from sandan.telemetry.factory import make_store
    from sandan.telemetry.retention import raw_retention

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    rows = TextColumn("{task.fields[rows]:,} rows")
    if url is not None:
        _upload(file, url, token, device, (*columns, TransferSpeedColumn(), rows))
        return
    settings = _settings(data_dir)
    ctx = _context(settings)
    store = make_store(settings)
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


def _upload(file: Path, url: str, token: str | None, device: int, columns: tuple[Any, ...]) -> None:
    """import-csv --url: the file in chunks to a running server, with the same progress bar."""
    from sandan.telemetry.csv_upload import UploadFailed, upload_csv

    if not token:
        console.print("[red]--url needs --token (or SANDAN_API_TOKEN)[/]")
        raise typer.Exit(2)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"Sending {file.name}", total=file.stat().st_size, rows=0)
        try:
            report = upload_csv(
                file,
                url,
                token,
                device,
                progress=lambda n, done: progress.update(task, completed=done, rows=n),
            )
        except UploadFailed as exc:
            progress.stop()
            console.print(f"[red]refused: {exc}[/]")
            console.print(
                f"{exc.done.stored} readings of the chunks before were stored; sending the "
                "file again is safe (what is stored comes back as duplicates)."
            )
            raise typer.Exit(1) from None
        except httpx.HTTPError as exc:
            progress.stop()
            console.print(f"[red]cannot reach {url}: {exc}[/]")
            raise typer.Exit(1) from None
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
