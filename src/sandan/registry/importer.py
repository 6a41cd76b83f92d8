"""Bulk onboarding from CSV: every row is checked, valid rows are imported, rejects are kept.

One CSV line describes a company and one of its sites; more lines with the same business
registration number add more sites to that company.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.registry.geo import centroid, polygon_problem
from sandan.registry.models import Company, Complex, Contact, ImportRun, Site, Zone
from sandan.registry.validators import brn_problem, ksic_problem, normalize_brn, normalize_ksic

COLUMNS = (
    "brn",
    "name",
    "name_en",
    "ksic",
    "zone",
    "address",
    "employees",
    "contact_name",
    "contact_role",
    "contact_phone",
    "contact_email",
    "site_name",
    "site_address",
    "lat",
    "lon",
    "footprint",
)
REQUIRED = ("brn", "name", "ksic", "zone")


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class CompanyRow(BaseModel):
    """One CSV line, validated field by field."""

    brn: str
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    ksic: str
    zone: str = Field(min_length=1, max_length=20)
    address: str = Field(default="", max_length=300)
    employees: int | None = Field(default=None, ge=0, le=1_000_000)
    contact_name: str = Field(default="", max_length=200)
    contact_role: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40, pattern=r"^[0-9+\-() ]*$")
    contact_email: EmailStr | None = None
    site_name: str = Field(default="", max_length=200)
    site_address: str = Field(default="", max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    footprint: dict[str, Any] | None = None

    _blanks = field_validator(
        "employees", "contact_email", "lat", "lon", "footprint", mode="before"
    )(_blank_to_none)

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("brn")
    @classmethod
    def _brn(cls, value: str) -> str:
        if problem := brn_problem(value):
            raise ValueError(problem)
        return normalize_brn(value)

    @field_validator("ksic")
    @classmethod
    def _ksic(cls, value: str) -> str:
        if problem := ksic_problem(value):
            raise ValueError(problem)
        return normalize_ksic(value)

    @field_validator("footprint", mode="before")
    @classmethod
    def _footprint(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid GeoJSON text ({exc.msg})") from None
        if value is not None and (problem := polygon_problem(value)):
            raise ValueError(problem)
        return value


@dataclass
class Problem:
    line: int
    field: str
    reason: str
    brn: str = ""


@dataclass
class ImportReport:
    """What an import did, line by line for the rejects."""

    run_id: int = 0
    rows_total: int = 0
    companies_created: int = 0
    sites_created: int = 0
    rejected_lines: set[int] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return len(self.rejected_lines)


def _row_problems(line: int, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "row"
        reason = str(err["msg"]).removeprefix("Value error, ")
        problems.append(Problem(line, name, reason, str(raw.get("brn") or "")))
    return problems


def import_companies(
    session: Session,
    principal: Principal,
    lines: Iterable[str],
    *,
    filename: str = "",
    complex_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import companies, contacts and sites from CSV text; bad lines are reported, not fatal."""
    if not principal.has(Scope.import_write):
        raise PermissionDenied("bulk onboarding needs import:write (complex operator)")
    started = time.perf_counter()
    reader = csv.DictReader(iter(lines))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationFailed.one(
            "header", f"missing column(s) {missing}; expected {list(COLUMNS)}"
        )
    cx = session.scalar(
        select(Complex).where(Complex.id == complex_id)
        if complex_id
        else select(Complex).where(Complex.kind == "hub").order_by(Complex.id)
    )
    if cx is None:
        raise ValidationFailed.one("complex_id", "no complex to import into; create one first")
    zones = {z.code: z for z in session.scalars(select(Zone).where(Zone.complex_id == cx.id))}
    known = set(session.scalars(select(Company.brn)))

    report = ImportReport()
    new: dict[str, tuple[Company, str]] = {}  # brn -> (company, its first line's name)
    pending_sites: list[tuple[str, Site]] = []
    pending_contacts: list[tuple[str, Contact]] = []
    for raw in reader:
        line = reader.line_num
        report.rows_total += 1
        raw = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        try:
            row = CompanyRow.model_validate(raw)
        except ValidationError as exc:
            problems = _row_problems(line, raw, exc)
        else:
            problems = []
            zone = zones.get(row.zone)
            if zone is None:
                problems.append(
                    Problem(line, "zone", f"unknown zone; one of {sorted(zones)}", row.brn)
                )
            if row.brn in known:
                problems.append(
                    Problem(line, "brn", "business registration number is registered", row.brn)
                )
            elif row.brn in new:
                first = new[row.brn][0]
                for column, before, now in (
                    ("name", first.name, row.name),
                    ("ksic", first.ksic, row.ksic),
                    ("zone", first.zone_id, zone.id if zone else None),
                ):
                    if before != now:
                        problems.append(
                            Problem(
                                line, column, "differs from an earlier line with this brn", row.brn
                            )
                        )
            if (row.lat is None) != (row.lon is None):
                absent = "lon" if row.lon is None else "lat"
                problems.append(Problem(line, absent, "lat and lon go together", row.brn))
            if not problems and zone is not None:
                if row.brn not in new:
                    company = Company(
                        complex_id=cx.id,
                        zone_id=zone.id,
                        brn=row.brn,
                        name=row.name,
                        name_en=row.name_en,
                        ksic=row.ksic,
                        address=row.address,
                        employees=row.employees,
                        footprint=row.footprint,
                    )
                    new[row.brn] = (company, row.name)
                    if row.contact_name:
                        pending_contacts.append(
                            (
                                row.brn,
                                Contact(
                                    name=row.contact_name,
                                    role=row.contact_role,
                                    phone=row.contact_phone,
                                    email=str(row.contact_email or ""),
                                ),
                            )
                        )
                if row.site_name or row.footprint or row.lat is not None:  # lat implies lon
                    lat, lon = row.lat, row.lon
                    if row.footprint is not None and (lat is None or lon is None):
                        lat, lon = centroid(row.footprint)
                    pending_sites.append(
                        (
                            row.brn,
                            Site(
                                name=row.site_name or row.name,
                                address=row.site_address or row.address,
                                lat=lat,
                                lon=lon,
                                footprint=row.footprint,
                            ),
                        )
                    )
        if problems:
            report.problems.extend(problems)
            report.rejected_lines.add(line)
            report.rejects.append(
                {"line": line, "row": raw, "problems": [p.__dict__ for p in problems]}
            )
        if progress is not None:
            progress(1)

    session.add_all(company for company, _ in new.values())
    session.flush()
    for brn, site in pending_sites:
        site.company_id = new[brn][0].id
    for brn, contact in pending_contacts:
        contact.company_id = new[brn][0].id
    session.add_all([s for _, s in pending_sites] + [c for _, c in pending_contacts])
    report.companies_created = len(new)
    report.sites_created = len(pending_sites)
    report.seconds = time.perf_counter() - started
    run = ImportRun(
        kind="companies",
        filename=filename,
        actor=principal.actor,
        rows_total=report.rows_total,
        companies_created=report.companies_created,
        sites_created=report.sites_created,
        rejected=report.rejected,
        rejects=report.rejects,
    )
    session.add(run)
    session.flush()
    report.run_id = run.id
    raise_event(
        session,
        "registry.companies_imported",
        {
            "run_id": run.id,
            "created": report.companies_created,
            "rejected": report.rejected,
        },
    )
    return report


def get_run(session: Session, principal: Principal, run_id: int) -> ImportRun:
    """An import run with its rejects (operators, who run imports)."""
    if not principal.has(Scope.import_write):
        raise PermissionDenied("import runs need import:write")
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"import run {run_id} not found")
    return run


def write_rejects(report: ImportReport, path: Any) -> None:
    """Write rejected lines with their reasons as CSV, so they can be fixed and re-imported."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["line", "problems", *COLUMNS], extrasaction="ignore"
        )
        writer.writeheader()
        for reject in report.rejects:
            reasons = "; ".join(f"{p['field']}: {p['reason']}" for p in reject["problems"])
            writer.writerow({"line": reject["line"], "problems": reasons, **reject["row"]})
