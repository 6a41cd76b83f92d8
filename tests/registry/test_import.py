"""Bulk onboarding from CSV: valid lines imported, every bad line reported by line and field."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import World
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry.demo_csv import company_csv_rows, write_company_csv
from sandan.registry.importer import import_companies
from sandan.registry.models import Company, ImportRun, Site
from sandan.settings import Settings

EXPECTED_FIELD = {  # the one defect each invalid row carries, by what it breaks
    "brn",
    "ksic",
    "zone",
    "contact_email",
    "lat",
    "footprint",
    "name",
    "employees",
}


def _csv_lines(n: int, share: float) -> tuple[list[str], set[int]]:
    rows, invalid = company_csv_rows(n, share)
    path_lines = [",".join(rows[0].keys()) + "\n"]
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
    path_lines = buffer.getvalue().splitlines(True)
    return path_lines, invalid


def test_two_thousand_companies_with_five_percent_bad(ctx: Context, world: World) -> None:
    lines, invalid = _csv_lines(2000, 0.05)
    system = Principal.system("t")
    started = time.perf_counter()
    with ctx.db.unit(system) as s:
        report = import_companies(s, system, lines, filename="gumi.csv")
    elapsed = time.perf_counter() - started
    print(f"\nimported 2000-line CSV in {elapsed:.2f} s")  # the figure quoted in the issue note
    assert report.rows_total == 2000
    assert report.rejected == 100 == len(invalid)
    assert report.rejected_lines == {row + 1 for row in invalid}  # line 1 is the header
    assert {p.field for p in report.problems} == EXPECTED_FIELD
    assert all(p.reason for p in report.problems)
    assert report.companies_created == 1900
    with ctx.db.unit() as s:
        assert s.scalar(select(func.count()).select_from(Company)) == 1902  # + the world's two
        assert s.scalar(select(func.count()).select_from(Site)) >= 1900
        run = s.get(ImportRun, report.run_id)
        assert run is not None and run.rejected == 100 and len(run.rejects) == 100
        assert {r["line"] for r in run.rejects} == report.rejected_lines


def test_reimport_rejects_known_numbers_and_keeps_nothing_twice(ctx: Context, world: World) -> None:
    lines, _ = _csv_lines(30, 0.0)
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        first = import_companies(s, system, lines)
    with ctx.db.unit(system) as s:
        second = import_companies(s, system, lines)
    assert first.companies_created == 30
    assert second.companies_created == 0 and second.rejected == 30
    assert {p.reason for p in second.problems} == {"business registration number is registered"}


def test_missing_columns_name_the_header(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/import/companies",
        headers=world.headers("operator"),
        files={"file": ("x.csv", b"name,zone\nx,Z1\n", "text/csv")},
    )
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "header" and "brn" in r.json()["detail"]


def test_upload_through_the_api(client: TestClient, world: World, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    invalid = write_company_csv(path, 40, 0.1, seed=5)
    r = client.post(
        "/api/v1/import/companies",
        headers=world.headers("operator"),
        files={"file": ("c.csv", path.read_bytes(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rejected"] == len(invalid) == 4 and body["companies_created"] == 36
    assert {p["line"] for p in body["problems"]} == {i + 1 for i in invalid}
    run = client.get(f"/api/v1/import/runs/{body['run_id']}", headers=world.headers("operator"))
    assert run.status_code == 200 and len(run.json()["rejects"]) == 4


def test_cli_import_shows_progress_and_writes_rejects(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "companies.csv"
    invalid = write_company_csv(path, 60, 0.05, seed=3)
    env = {"SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    result = CliRunner().invoke(cli, ["import", "companies", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "Importing companies.csv" in result.output  # the progress bar's label
    assert f"{60 - len(invalid)} companies" in result.output
    rejects = list(csv.DictReader((tmp_path / "companies.rejects.csv").open(encoding="utf-8")))
    assert len(rejects) == len(invalid) and all(r["problems"] for r in rejects)


def test_lines_of_one_company_must_agree(ctx: Context, world: World) -> None:
    lines = [
        "brn,name,ksic,zone,site_name,lat,lon\n",
        "1018112341,합동정밀,29199,Z1,1공장,36.1,128.4\n",
        "1018112341,합동정밀,29199,Z1,2공장,36.11,128.41\n",
        "1018112341,합동정밀,26110,Z2,3공장,,\n",
        "2148612341,위치누락,26110,Z1,본사,36.1,\n",
    ]
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        report = import_companies(s, system, lines)
    assert report.companies_created == 1 and report.sites_created == 2
    by_line = {(p.line, p.field) for p in report.problems}
    assert {(4, "ksic"), (4, "zone"), (5, "lon")} <= by_line
