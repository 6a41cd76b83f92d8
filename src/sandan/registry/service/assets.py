"""Sites and what stands on them: the ISA-95 asset tree, devices with their keys, and the
tags devices measure; each write is checked against the owning company."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import Conflict, ValidationFailed
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import ensure_writable
from sandan.registry import schemas
from sandan.registry.geo import centroid
from sandan.registry.models import Asset, Device, Site, Tag
from sandan.registry.service.companies import get_company
from sandan.registry.service.owned import get_owned, update_owned

# Which parent levels each ISA-95 level may hang under (None: directly under the site).
PARENT_LEVELS: dict[str, set[str | None]] = {
    "area": {None},
    "line": {"area"},
    "cell": {"line", "area"},
    "unit": {"line", "area"},
    "machine": {"line", "cell", "unit"},
}


def create_site(session: Session, principal: Principal, data: schemas.SiteIn) -> Site:
    company = get_company(session, principal, data.company_id)
    ensure_writable(principal, company.id, "sites")
    row = Site(**data.model_dump())
    if row.footprint is not None and (row.lat is None or row.lon is None):
        row.lat, row.lon = centroid(row.footprint)
    session.add(row)
    session.flush()
    raise_event(session, "registry.site_created", {"site_id": row.id, "company_id": row.company_id})
    return row


def create_asset(session: Session, principal: Principal, data: schemas.AssetIn) -> Asset:
    """Add an ISA-95 node; the parent must be in the same site and one level up."""
    site = get_owned(session, principal, Site, data.site_id)
    ensure_writable(principal, site.company_id, "assets")
    parent_level: str | None = None
    if data.parent_id is not None:
        parent = session.get(Asset, data.parent_id)
        if parent is None or parent.site_id != site.id:
            raise ValidationFailed.one("parent_id", "no such asset in this site")
        parent_level = parent.level
    if parent_level not in PARENT_LEVELS[data.level]:
        allowed = sorted(str(p) for p in PARENT_LEVELS[data.level])
        raise ValidationFailed.one(
            "parent_id", f"a {data.level} goes under {allowed}, not under {parent_level}"
        )
    clash = select(Asset.id).where(
        Asset.site_id == site.id,
        Asset.code == data.code,
        Asset.parent_id.is_(None) if data.parent_id is None else Asset.parent_id == data.parent_id,
    )
    if session.scalar(clash) is not None:
        raise Conflict(f"asset code {data.code} exists under this parent", field="code")
    row = Asset(company_id=site.company_id, **data.model_dump())
    session.add(row)
    session.flush()
    raise_event(
        session,
        "registry.asset_created",
        {"asset_id": row.id, "company_id": row.company_id, "level": row.level},
    )
    return row


def _machine_of(session: Session, company_id: int, machine_id: int | None, field: str) -> None:
    if machine_id is None:
        return
    machine = session.get(Asset, machine_id)
    if machine is None or machine.company_id != company_id or machine.level != "machine":
        raise ValidationFailed.one(field, "must be a machine of the same company")


def create_device(session: Session, principal: Principal, data: schemas.DeviceIn) -> Device:
    """Register a device on a machine or a site."""
    site = get_owned(session, principal, Site, data.site_id)
    ensure_writable(principal, site.company_id, "devices")
    _machine_of(session, site.company_id, data.machine_id, "machine_id")
    row = Device(company_id=site.company_id, **data.model_dump())
    session.add(row)
    session.flush()
    raise_event(
        session, "registry.device_created", {"device_id": row.id, "company_id": row.company_id}
    )
    return row


def update_device(
    session: Session, principal: Principal, device_id: int, data: schemas.DevicePatch
) -> Device:
    changes = data.model_dump(exclude_unset=True)
    device = get_owned(session, principal, Device, device_id)
    _machine_of(session, device.company_id, changes.get("machine_id"), "machine_id")
    if "machine_id" in changes and changes["machine_id"] != device.machine_id:
        for tag in session.scalars(select(Tag).where(Tag.device_id == device.id)):
            tag.machine_id = changes["machine_id"]  # a tag measures the machine its device is on
    return update_owned(session, principal, Device, device_id, changes)


def issue_device_secret(
    session: Session, principal: Principal, device_id: int
) -> schemas.DeviceSecret:
    """A new device key (old ones are revoked); the device sends it as a bearer token."""
    device = get_owned(session, principal, Device, device_id)
    ensure_writable(principal, device.company_id, "device credentials")
    cred, token = identity.issue_device_secret(
        session, device_id=device.id, company_id=device.company_id, name=device.name
    )
    return schemas.DeviceSecret(device_id=device.id, credential_id=cred.id, token=token)


def create_tag(session: Session, principal: Principal, data: schemas.TagIn) -> Tag:
    """Declare a measured quantity of a device."""
    device = get_owned(session, principal, Device, data.device_id)
    ensure_writable(principal, device.company_id, "tags")
    if session.scalar(select(Tag.id).where(Tag.device_id == device.id, Tag.name == data.name)):
        raise Conflict(f"tag {data.name} exists on this device", field="name")
    row = Tag(company_id=device.company_id, machine_id=device.machine_id, **data.model_dump())
    session.add(row)
    session.flush()
    raise_event(session, "registry.tag_created", {"tag_id": row.id, "company_id": row.company_id})
    return row


def update_tag(session: Session, principal: Principal, tag_id: int, data: schemas.TagPatch) -> Tag:
    changes = data.model_dump(exclude_unset=True)
    tag = get_owned(session, principal, Tag, tag_id)
    low = changes.get("range_min", tag.range_min)
    high = changes.get("range_max", tag.range_max)
    if low is not None and high is not None and low > high:
        raise ValidationFailed.one("range_min", "must not exceed range_max")
    return update_owned(session, principal, Tag, tag_id, changes)
