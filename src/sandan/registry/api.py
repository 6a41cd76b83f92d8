"""HTTP routes of the registry: parse, call one service function, return."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from sandan.core.errors import ValidationFailed
from sandan.core.http import (
    ComplexAdmin,
    DbSession,
    ImportWrite,
    RegistryRead,
    RegistryWrite,
    get_context,
)
from sandan.core.pagination import Page, PageParams, paginate
from sandan.core.types import IdPath, IdQuery
from sandan.registry import importer, service
from sandan.registry import schemas as s
from sandan.registry.models import Asset, Contact, Device, Site, Tag, Zone

router = APIRouter(prefix="/api/v1", tags=["registry"])
Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100)]


def _page(rows: list[object], total: int, page: PageParams, out: type[s._Out]) -> Page[s._Out]:
    return Page(
        items=[out.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/overview", response_model=s.Overview)
def overview(principal: RegistryRead, session: DbSession, complex_id: IdQuery = None) -> s.Overview:
    """Counts per zone and industry, and the company footprints the caller may see."""
    return service.overview(session, principal, complex_id)


@router.get("/complexes", response_model=Page[s.ComplexOut])
def list_complexes(principal: RegistryRead, session: DbSession, page: Paging) -> Page[s.ComplexOut]:
    """Complexes on this platform (a hub and its spokes)."""
    rows, total = paginate(session, service.complexes_readable(principal).order_by("id"), page)
    return _page(rows, total, page, s.ComplexOut)  # type: ignore[return-value]


@router.post("/complexes", response_model=s.ComplexOut, status_code=201)
def create_complex(body: s.ComplexIn, principal: ComplexAdmin, session: DbSession) -> s.ComplexOut:
    """Register a complex (operator)."""
    return s.ComplexOut.model_validate(service.create_complex(session, principal, body))


@router.get("/complexes/{complex_id}", response_model=s.ComplexOut)
def get_complex(complex_id: IdPath, principal: RegistryRead, session: DbSession) -> s.ComplexOut:
    """One complex."""
    return s.ComplexOut.model_validate(service.get_complex(session, principal, complex_id))


@router.patch("/complexes/{complex_id}", response_model=s.ComplexOut)
def update_complex(
    complex_id: IdPath, body: s.ComplexPatch, principal: ComplexAdmin, session: DbSession
) -> s.ComplexOut:
    """Rename a complex or attach it to a hub (operator)."""
    return s.ComplexOut.model_validate(service.update_complex(session, principal, complex_id, body))


@router.get("/zones", response_model=Page[s.ZoneOut])
def list_zones(
    principal: RegistryRead, session: DbSession, page: Paging, complex_id: IdQuery = None
) -> Page[s.ZoneOut]:
    """Zones, optionally of one complex."""
    stmt = service.zones_readable(principal).order_by("complex_id", "code")
    if complex_id is not None:
        stmt = stmt.where(Zone.complex_id == complex_id)
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.ZoneOut)  # type: ignore[return-value]


@router.post("/zones", response_model=s.ZoneOut, status_code=201)
def create_zone(body: s.ZoneIn, principal: ComplexAdmin, session: DbSession) -> s.ZoneOut:
    """Add a zone to a complex (operator)."""
    return s.ZoneOut.model_validate(service.create_zone(session, principal, body))


@router.get("/zones/{zone_id}", response_model=s.ZoneOut)
def get_zone(zone_id: IdPath, principal: RegistryRead, session: DbSession) -> s.ZoneOut:
    """One zone with its boundary."""
    return s.ZoneOut.model_validate(service.get_zone(session, principal, zone_id))


@router.patch("/zones/{zone_id}", response_model=s.ZoneOut)
def update_zone(
    zone_id: IdPath, body: s.ZonePatch, principal: ComplexAdmin, session: DbSession
) -> s.ZoneOut:
    """Rename a zone or redraw its boundary (operator)."""
    return s.ZoneOut.model_validate(service.update_zone(session, principal, zone_id, body))


@router.get("/companies", response_model=Page[s.CompanyOut])
def list_companies(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    zone_id: IdQuery = None,
    complex_id: IdQuery = None,
    ksic: Annotated[str | None, Query(max_length=6, description="KSIC code prefix")] = None,
    q: Search = None,
    active: bool | None = None,
) -> Page[s.CompanyOut]:
    """Companies the caller may see, filtered by zone, complex, KSIC prefix or name."""
    stmt = service.list_companies_stmt(
        principal, zone_id=zone_id, complex_id=complex_id, ksic=ksic, q=q, active=active
    )
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.CompanyOut)  # type: ignore[return-value]


@router.post("/companies", response_model=s.CompanyOut, status_code=201)
def create_company(body: s.CompanyIn, principal: ComplexAdmin, session: DbSession) -> s.CompanyOut:
    """Onboard one company with its contacts (operator)."""
    return s.CompanyOut.model_validate(service.create_company(session, principal, body))


@router.get("/companies/{company_id}", response_model=s.CompanyOut)
def get_company(company_id: IdPath, principal: RegistryRead, session: DbSession) -> s.CompanyOut:
    """One company."""
    return s.CompanyOut.model_validate(service.get_company(session, principal, company_id))


@router.patch("/companies/{company_id}", response_model=s.CompanyOut)
def update_company(
    company_id: IdPath, body: s.CompanyPatch, principal: RegistryWrite, session: DbSession
) -> s.CompanyOut:
    """Change a company's details (its admin or the operator)."""
    return s.CompanyOut.model_validate(service.update_company(session, principal, company_id, body))


@router.get("/companies/{company_id}/asset-tree", response_model=list[s.AssetNode])
def asset_tree(
    company_id: IdPath, principal: RegistryRead, session: DbSession
) -> list[s.AssetNode]:
    """The company's sites with their ISA-95 asset trees."""
    return service.asset_tree(session, principal, company_id)


@router.get("/companies/{company_id}/contacts", response_model=list[s.ContactOut])
def list_contacts(
    company_id: IdPath, principal: RegistryRead, session: DbSession
) -> list[s.ContactOut]:
    """A company's contacts."""
    company = service.get_company(session, principal, company_id)
    rows = session.scalars(
        service.owned_readable(Contact, principal)
        .where(Contact.company_id == company.id)
        .order_by(Contact.id)
    )
    return [s.ContactOut.model_validate(r) for r in rows]


@router.post("/companies/{company_id}/contacts", response_model=s.ContactOut, status_code=201)
def add_contact(
    company_id: IdPath, body: s.ContactIn, principal: RegistryWrite, session: DbSession
) -> s.ContactOut:
    """Add a contact person to a company."""
    return s.ContactOut.model_validate(service.add_contact(session, principal, company_id, body))


@router.patch("/contacts/{contact_id}", response_model=s.ContactOut)
def update_contact(
    contact_id: IdPath, body: s.ContactPatch, principal: RegistryWrite, session: DbSession
) -> s.ContactOut:
    """Change a contact."""
    row = service.update_owned(
        session, principal, Contact, contact_id, body.model_dump(exclude_unset=True)
    )
    return s.ContactOut.model_validate(row)


@router.delete("/contacts/{contact_id}", status_code=204)
def delete_contact(contact_id: IdPath, principal: RegistryWrite, session: DbSession) -> None:
    """Remove a contact."""
    service.delete_owned(session, principal, Contact, contact_id)


@router.get("/sites", response_model=Page[s.SiteOut])
def list_sites(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    company_id: IdQuery = None,
    q: Search = None,
) -> Page[s.SiteOut]:
    """Sites the caller may see."""
    stmt = service.owned_readable(Site, principal).order_by(Site.id)
    if company_id is not None:
        stmt = stmt.where(Site.company_id == company_id)
    if q:
        stmt = stmt.where(Site.name.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.SiteOut)  # type: ignore[return-value]


@router.post("/sites", response_model=s.SiteOut, status_code=201)
def create_site(body: s.SiteIn, principal: RegistryWrite, session: DbSession) -> s.SiteOut:
    """Register a plant or building of a company."""
    return s.SiteOut.model_validate(service.create_site(session, principal, body))


@router.get("/sites/{site_id}", response_model=s.SiteOut)
def get_site(site_id: IdPath, principal: RegistryRead, session: DbSession) -> s.SiteOut:
    """One site."""
    return s.SiteOut.model_validate(service.get_owned(session, principal, Site, site_id))


@router.patch("/sites/{site_id}", response_model=s.SiteOut)
def update_site(
    site_id: IdPath, body: s.SitePatch, principal: RegistryWrite, session: DbSession
) -> s.SiteOut:
    """Change a site."""
    row = service.update_owned(
        session, principal, Site, site_id, body.model_dump(exclude_unset=True)
    )
    return s.SiteOut.model_validate(row)


@router.delete("/sites/{site_id}", status_code=204)
def delete_site(site_id: IdPath, principal: RegistryWrite, session: DbSession) -> None:
    """Remove a site with its assets, devices and tags."""
    service.delete_owned(session, principal, Site, site_id)


@router.get("/assets", response_model=Page[s.AssetOut])
def list_assets(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    company_id: IdQuery = None,
    site_id: IdQuery = None,
    parent_id: IdQuery = None,
    level: s.AssetLevel | None = None,
    q: Search = None,
) -> Page[s.AssetOut]:
    """ISA-95 assets the caller may see."""
    stmt = service.owned_readable(Asset, principal).order_by(Asset.id)
    for column, value in (
        (Asset.company_id, company_id),
        (Asset.site_id, site_id),
        (Asset.parent_id, parent_id),
        (Asset.level, level),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(Asset.name.ilike(f"%{q}%") | Asset.code.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.AssetOut)  # type: ignore[return-value]


@router.post("/assets", response_model=s.AssetOut, status_code=201)
def create_asset(body: s.AssetIn, principal: RegistryWrite, session: DbSession) -> s.AssetOut:
    """Add an area, line, cell, unit or machine."""
    return s.AssetOut.model_validate(service.create_asset(session, principal, body))


@router.get("/assets/{asset_id}", response_model=s.AssetOut)
def get_asset(asset_id: IdPath, principal: RegistryRead, session: DbSession) -> s.AssetOut:
    """One asset."""
    return s.AssetOut.model_validate(service.get_owned(session, principal, Asset, asset_id))


@router.patch("/assets/{asset_id}", response_model=s.AssetOut)
def update_asset(
    asset_id: IdPath, body: s.AssetPatch, principal: RegistryWrite, session: DbSession
) -> s.AssetOut:
    """Rename or re-code an asset."""
    row = service.update_owned(
        session, principal, Asset, asset_id, body.model_dump(exclude_unset=True)
    )
    return s.AssetOut.model_validate(row)


@router.delete("/assets/{asset_id}", status_code=204)
def delete_asset(asset_id: IdPath, principal: RegistryWrite, session: DbSession) -> None:
    """Remove an asset and everything under it."""
    service.delete_owned(session, principal, Asset, asset_id)


@router.get("/devices", response_model=Page[s.DeviceOut])
def list_devices(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    company_id: IdQuery = None,
    site_id: IdQuery = None,
    machine_id: IdQuery = None,
    q: Search = None,
) -> Page[s.DeviceOut]:
    """Devices the caller may see."""
    stmt = service.owned_readable(Device, principal).order_by(Device.id)
    for column, value in (
        (Device.company_id, company_id),
        (Device.site_id, site_id),
        (Device.machine_id, machine_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(Device.name.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.DeviceOut)  # type: ignore[return-value]


@router.post("/devices", response_model=s.DeviceOut, status_code=201)
def create_device(body: s.DeviceIn, principal: RegistryWrite, session: DbSession) -> s.DeviceOut:
    """Register a device on a machine or site."""
    return s.DeviceOut.model_validate(service.create_device(session, principal, body))


@router.get("/devices/{device_id}", response_model=s.DeviceOut)
def get_device(device_id: IdPath, principal: RegistryRead, session: DbSession) -> s.DeviceOut:
    """One device."""
    return s.DeviceOut.model_validate(service.get_owned(session, principal, Device, device_id))


@router.patch("/devices/{device_id}", response_model=s.DeviceOut)
def update_device(
    device_id: IdPath, body: s.DevicePatch, principal: RegistryWrite, session: DbSession
) -> s.DeviceOut:
    """Change a device, move it to another machine or disable it."""
    return s.DeviceOut.model_validate(service.update_device(session, principal, device_id, body))


@router.delete("/devices/{device_id}", status_code=204)
def delete_device(device_id: IdPath, principal: RegistryWrite, session: DbSession) -> None:
    """Remove a device and its tags."""
    service.delete_owned(session, principal, Device, device_id)


@router.post("/devices/{device_id}/credentials", response_model=s.DeviceSecret, status_code=201)
def issue_device_secret(
    device_id: IdPath, principal: RegistryWrite, session: DbSession
) -> s.DeviceSecret:
    """Issue a new device key; earlier keys stop working."""
    return service.issue_device_secret(session, principal, device_id)


@router.get("/tags", response_model=Page[s.TagOut])
def list_tags(
    principal: RegistryRead,
    session: DbSession,
    page: Paging,
    company_id: IdQuery = None,
    device_id: IdQuery = None,
    machine_id: IdQuery = None,
    q: Search = None,
) -> Page[s.TagOut]:
    """Tags the caller may see."""
    stmt = service.owned_readable(Tag, principal).order_by(Tag.id)
    for column, value in (
        (Tag.company_id, company_id),
        (Tag.device_id, device_id),
        (Tag.machine_id, machine_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(Tag.name.ilike(f"%{q}%") | Tag.quantity.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt, page)
    return _page(rows, total, page, s.TagOut)  # type: ignore[return-value]


@router.post("/tags", response_model=s.TagOut, status_code=201)
def create_tag(body: s.TagIn, principal: RegistryWrite, session: DbSession) -> s.TagOut:
    """Declare a tag on a device."""
    return s.TagOut.model_validate(service.create_tag(session, principal, body))


@router.get("/tags/{tag_id}", response_model=s.TagOut)
def get_tag(tag_id: IdPath, principal: RegistryRead, session: DbSession) -> s.TagOut:
    """One tag."""
    return s.TagOut.model_validate(service.get_owned(session, principal, Tag, tag_id))


@router.patch("/tags/{tag_id}", response_model=s.TagOut)
def update_tag(
    tag_id: IdPath, body: s.TagPatch, principal: RegistryWrite, session: DbSession
) -> s.TagOut:
    """Change a tag's unit, range or sampling interval."""
    return s.TagOut.model_validate(service.update_tag(session, principal, tag_id, body))


@router.delete("/tags/{tag_id}", status_code=204)
def delete_tag(tag_id: IdPath, principal: RegistryWrite, session: DbSession) -> None:
    """Remove a tag."""
    service.delete_owned(session, principal, Tag, tag_id)


@router.post("/import/companies", response_model=s.ImportReportOut)
def import_companies(
    principal: ImportWrite,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    request: Request,
) -> s.ImportReportOut:
    """Bulk onboarding from CSV: valid lines are imported, every bad line is reported."""
    try:
        text = file.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "must be UTF-8 CSV") from None
    report = importer.import_companies(
        session, principal, io.StringIO(text), filename=file.filename or ""
    )
    metrics = get_context(request).metrics
    metrics.import_rows.labels("imported").inc(report.rows_total - report.rejected)
    metrics.import_rows.labels("rejected").inc(report.rejected)
    return s.ImportReportOut(
        run_id=report.run_id,
        rows_total=report.rows_total,
        companies_created=report.companies_created,
        sites_created=report.sites_created,
        rejected=report.rejected,
        seconds=round(report.seconds, 3),
        problems=[s.ImportProblem(**p.__dict__) for p in report.problems],
    )


@router.get("/import/runs/{run_id}", response_model=s.ImportRunOut)
def get_import_run(run_id: IdPath, principal: ImportWrite, session: DbSession) -> s.ImportRunOut:
    """An earlier import run with its rejected lines, for inspection."""
    return s.ImportRunOut.model_validate(importer.get_run(session, principal, run_id))
