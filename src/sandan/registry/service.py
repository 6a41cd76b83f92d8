"""Rules of the registry. Every function takes the session and the acting principal; reads
are filtered inside the query, writes are checked against the principal's company."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.tenancy import ensure_writable, readable
from sandan.registry import schemas
from sandan.registry.geo import centroid
from sandan.registry.models import Asset, Company, Complex, Contact, Device, Site, Tag, Zone
from sandan.registry.validators import KSIC_DIVISIONS, ksic_division

M = TypeVar("M", Site, Asset, Device, Tag, Contact)

# Which parent levels each ISA-95 level may hang under (None: directly under the site).
PARENT_LEVELS: dict[str, set[str | None]] = {
    "area": {None},
    "line": {"area"},
    "cell": {"line", "area"},
    "unit": {"line", "area"},
    "machine": {"line", "cell", "unit"},
}

_RESOURCE: dict[type[Any], Resource] = {
    Site: Resource.directory,
    Contact: Resource.directory,
    Asset: Resource.assets,
    Device: Resource.assets,
    Tag: Resource.assets,
}


def _apply(obj: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(obj, key, value)


def _require_complex_admin(principal: Principal) -> None:
    if not principal.has(Scope.complex_admin):
        raise PermissionDenied("only the complex operator changes complexes and zones")


# --- complexes and zones: shared reference data, readable by every registry reader -------------


def complexes_readable(principal: Principal) -> Select[Complex]:
    """Complexes are public to every authenticated registry reader."""
    stmt = select(Complex)
    return stmt if principal.has(Scope.registry_read) else stmt.where(false())


def get_complex(session: Session, principal: Principal, complex_id: int) -> Complex:
    row = session.scalar(complexes_readable(principal).where(Complex.id == complex_id))
    if row is None:
        raise NotFound(f"complex {complex_id} not found")
    return row


def create_complex(session: Session, principal: Principal, data: schemas.ComplexIn) -> Complex:
    """Register a complex; a spoke must name an existing hub."""
    _require_complex_admin(principal)
    _check_hub(session, data.kind, data.hub_id)
    if session.scalar(select(Complex.id).where(Complex.code == data.code)) is not None:
        raise Conflict(f"complex code {data.code} exists", field="code")
    row = Complex(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def _check_hub(session: Session, kind: str, hub_id: int | None, own_id: int | None = None) -> None:
    """A spoke names an existing hub (not itself); a hub names none."""
    if kind == "hub" and hub_id is not None:
        raise ValidationFailed.one("hub_id", "a hub complex has no hub")
    if kind == "spoke":
        hub = None if hub_id is None or hub_id == own_id else session.get(Complex, hub_id)
        if hub is None or hub.kind != "hub":
            raise ValidationFailed.one("hub_id", "a spoke needs an existing hub complex")


def update_complex(
    session: Session, principal: Principal, complex_id: int, data: schemas.ComplexPatch
) -> Complex:
    _require_complex_admin(principal)
    row = get_complex(session, principal, complex_id)
    changes = data.model_dump(exclude_unset=True)
    _check_hub(session, changes.get("kind", row.kind), changes.get("hub_id", row.hub_id), row.id)
    _apply(row, changes)
    session.flush()
    raise_event(session, "registry.complex_updated", {"id": row.id, "fields": sorted(changes)})
    return row


def zones_readable(principal: Principal) -> Select[Zone]:
    stmt = select(Zone)
    return stmt if principal.has(Scope.registry_read) else stmt.where(false())


def get_zone(session: Session, principal: Principal, zone_id: int) -> Zone:
    row = session.scalar(zones_readable(principal).where(Zone.id == zone_id))
    if row is None:
        raise NotFound(f"zone {zone_id} not found")
    return row


def create_zone(session: Session, principal: Principal, data: schemas.ZoneIn) -> Zone:
    """Add a zone to a complex."""
    _require_complex_admin(principal)
    if session.get(Complex, data.complex_id) is None:
        raise ValidationFailed.one("complex_id", "no such complex")
    exists = select(Zone.id).where(Zone.complex_id == data.complex_id, Zone.code == data.code)
    if session.scalar(exists) is not None:
        raise Conflict(f"zone {data.code} exists in this complex", field="code")
    row = Zone(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def update_zone(
    session: Session, principal: Principal, zone_id: int, data: schemas.ZonePatch
) -> Zone:
    _require_complex_admin(principal)
    row = get_zone(session, principal, zone_id)
    changes = data.model_dump(exclude_unset=True)
    _apply(row, changes)
    session.flush()
    raise_event(session, "registry.zone_updated", {"id": row.id, "fields": sorted(changes)})
    return row


# --- companies ---------------------------------------------------------------------------------


def companies_readable(principal: Principal) -> Select[Company]:
    """Companies the principal may see: its own, or all for complex-level duties."""
    return readable(select(Company), principal, Company.id, Resource.directory)


def get_company(session: Session, principal: Principal, company_id: int) -> Company:
    row = session.scalar(companies_readable(principal).where(Company.id == company_id))
    if row is None:
        raise NotFound(f"company {company_id} not found")
    return row


def list_companies_stmt(
    principal: Principal,
    *,
    zone_id: int | None = None,
    complex_id: int | None = None,
    ksic: str | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> Select[Company]:
    """Filtered, permission-scoped companies ordered by name."""
    stmt = companies_readable(principal).order_by(Company.name, Company.id)
    if zone_id is not None:
        stmt = stmt.where(Company.zone_id == zone_id)
    if complex_id is not None:
        stmt = stmt.where(Company.complex_id == complex_id)
    if ksic:
        stmt = stmt.where(Company.ksic.startswith(ksic.lstrip("ABCDEFGHIJKLMNOPQRSTU")))
    if q:
        stmt = stmt.where(
            or_(
                Company.name.ilike(f"%{q}%"),
                Company.name_en.ilike(f"%{q}%"),
                Company.brn == q.replace("-", ""),
            )
        )
    if active is not None:
        stmt = stmt.where(Company.active == active)
    return stmt


def create_company(session: Session, principal: Principal, data: schemas.CompanyIn) -> Company:
    """Onboard a company (operator only); its contacts come along."""
    if not principal.is_operator:
        raise PermissionDenied("only the complex operator onboards companies")
    zone = session.get(Zone, data.zone_id)
    if zone is None:
        raise ValidationFailed.one("zone_id", "no such zone")
    if session.scalar(select(Company.id).where(Company.brn == data.brn)) is not None:
        raise Conflict(f"business registration number {data.brn} is registered", field="brn")
    fields = data.model_dump(exclude={"contacts"})
    company = Company(**fields, complex_id=zone.complex_id)
    session.add(company)
    session.flush()
    session.add_all(Contact(company_id=company.id, **c.model_dump()) for c in data.contacts)
    session.flush()
    raise_event(
        session,
        "registry.company_created",
        {"company_id": company.id, "zone_id": zone.id, "ksic": company.ksic},
    )
    return company


def update_company(
    session: Session, principal: Principal, company_id: int, data: schemas.CompanyPatch
) -> Company:
    """Change a company; company admins edit their own, but never its zone or status."""
    company = get_company(session, principal, company_id)
    ensure_writable(principal, company.id, "the company")
    changes = data.model_dump(exclude_unset=True)
    if not principal.is_operator and ({"zone_id", "active"} & changes.keys()):
        raise PermissionDenied("only the complex operator moves or deactivates a company")
    if "zone_id" in changes:
        zone = session.get(Zone, changes["zone_id"])
        if zone is None:
            raise ValidationFailed.one("zone_id", "no such zone")
        company.complex_id = zone.complex_id
    _apply(company, changes)
    session.flush()
    raise_event(session, "registry.company_updated", {"company_id": company.id})
    return company


# --- rows owned by a company: contacts, sites, assets, devices, tags ---------------------------


def owned_readable(model: type[M], principal: Principal) -> Select[M]:
    """Company-owned rows of one kind the principal may read."""
    return readable(select(model), principal, model.company_id, _RESOURCE[model])


def get_owned(session: Session, principal: Principal, model: type[M], row_id: int) -> M:
    """One company-owned row; missing and hidden rows both answer 404."""
    row = session.scalar(owned_readable(model, principal).where(model.id == row_id))
    if row is None:
        raise NotFound(f"{model.__tablename__[:-1]} {row_id} not found")
    return row


def update_owned(
    session: Session, principal: Principal, model: type[M], row_id: int, changes: dict[str, Any]
) -> M:
    """Change a company-owned row the principal may write; announces the change."""
    row = get_owned(session, principal, model, row_id)
    ensure_writable(principal, row.company_id, model.__tablename__)
    _apply(row, changes)
    moved = "footprint" in changes and not ({"lat", "lon"} & changes.keys())
    if isinstance(row, Site) and moved and row.footprint is not None:
        row.lat, row.lon = centroid(row.footprint)  # the marker follows the footprint
    session.flush()
    raise_event(
        session,
        f"registry.{model.__tablename__[:-1]}_updated",
        {"id": row.id, "company_id": row.company_id, "fields": sorted(changes)},
    )
    return row


def _subtree(session: Session, root: Asset) -> list[Asset]:
    """An asset and everything under it, parents before children."""
    children: dict[int | None, list[Asset]] = {}
    for asset in session.scalars(select(Asset).where(Asset.site_id == root.site_id)):
        children.setdefault(asset.parent_id, []).append(asset)
    ordered, frontier = [root], [root]
    while frontier:
        frontier = [c for parent in frontier for c in children.get(parent.id, [])]
        ordered.extend(frontier)
    return ordered


def _delete_device_parts(session: Session, device: Device) -> None:
    for tag in session.scalars(select(Tag).where(Tag.device_id == device.id)):
        session.delete(tag)
    identity.delete_device_credentials(session, device.id)
    session.flush()


def _delete_assets_leaf_first(session: Session, assets: list[Asset]) -> None:
    for asset in reversed(assets):  # children were listed after their parents
        session.delete(asset)
        session.flush()


def _delete_dependents(session: Session, row: Any) -> None:
    """Remove what hangs under a row through the ORM, so each removal is audited (the
    database's own ON DELETE CASCADE would remove them unseen)."""
    if isinstance(row, Site):
        for device in session.scalars(select(Device).where(Device.site_id == row.id)).all():
            _delete_device_parts(session, device)
            session.delete(device)
        session.flush()
        roots = session.scalars(
            select(Asset).where(Asset.site_id == row.id, Asset.parent_id.is_(None))
        ).all()
        for root in roots:
            _delete_assets_leaf_first(session, _subtree(session, root))
    elif isinstance(row, Asset):
        subtree = _subtree(session, row)
        ids = [a.id for a in subtree]
        for device in session.scalars(select(Device).where(Device.machine_id.in_(ids))):
            device.machine_id = None  # the device stays on the site, detached
        for tag in session.scalars(select(Tag).where(Tag.machine_id.in_(ids))):
            tag.machine_id = None
        session.flush()
        _delete_assets_leaf_first(session, subtree[1:])
    elif isinstance(row, Device):
        _delete_device_parts(session, row)


def delete_owned(session: Session, principal: Principal, model: type[M], row_id: int) -> None:
    """Delete a company-owned row and, audited one by one, everything under it."""
    row = get_owned(session, principal, model, row_id)
    ensure_writable(principal, row.company_id, model.__tablename__)
    _delete_dependents(session, row)
    session.delete(row)
    session.flush()
    raise_event(
        session,
        f"registry.{model.__tablename__[:-1]}_deleted",
        {"id": row_id, "company_id": row.company_id},
    )


def add_contact(
    session: Session, principal: Principal, company_id: int, data: schemas.ContactIn
) -> Contact:
    company = get_company(session, principal, company_id)
    ensure_writable(principal, company.id, "contacts")
    row = Contact(company_id=company.id, **data.model_dump())
    session.add(row)
    session.flush()
    return row


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


def asset_tree(session: Session, principal: Principal, company_id: int) -> list[schemas.AssetNode]:
    """A company's sites with their ISA-95 trees, machines annotated with device and tag counts."""
    company = get_company(session, principal, company_id)
    sites = session.scalars(
        owned_readable(Site, principal).where(Site.company_id == company.id).order_by(Site.id)
    ).all()
    assets = session.scalars(
        owned_readable(Asset, principal).where(Asset.company_id == company.id).order_by(Asset.code)
    ).all()
    counts = (
        readable(select(Tag.machine_id, func.count()), principal, Tag.company_id, Resource.assets)
        .where(Tag.company_id == company.id)
        .group_by(Tag.machine_id)
    )
    tags_per_machine: dict[int | None, int] = {m: n for m, n in session.execute(counts)}
    nodes: dict[int, schemas.AssetNode] = {}
    for asset in assets:
        label = f"{asset.code} · {asset.name}"
        if asset.level == "machine":
            label += f" ({tags_per_machine.get(asset.id, 0)} tags)"
        nodes[asset.id] = schemas.AssetNode(id=f"asset-{asset.id}", label=label, level=asset.level)
    roots: dict[int, schemas.AssetNode] = {
        site.id: schemas.AssetNode(id=f"site-{site.id}", label=site.name, level="site")
        for site in sites
    }
    for asset in assets:
        parent = nodes.get(asset.parent_id) if asset.parent_id else roots.get(asset.site_id)
        if parent is not None:
            parent.children.append(nodes[asset.id])
    return list(roots.values())


@dataclass(frozen=True)
class MachineTags:
    """A machine, the line it stands on (the nearest line above it) and its tags by name."""

    id: int
    company_id: int
    code: str
    name: str
    line_id: int | None
    line_label: str
    tags: dict[str, int]

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}"


def machines_with_tags(
    session: Session,
    principal: Principal,
    *,
    company_id: int | None = None,
    asset_id: int | None = None,
    level: str | None = None,
    field: str = "asset_id",
) -> list[MachineTags]:
    """The readable machines of a company, or under an asset (a line, an area or one machine),
    with their lines and tag ids, in two queries whatever their number (analytics reads a
    whole company at once). A hidden or missing company or asset answers 404; an asset not
    of `level` (when given) is refused naming `field`."""
    root = get_owned(session, principal, Asset, asset_id) if asset_id is not None else None
    if root is not None and level is not None and root.level != level:
        raise ValidationFailed.one(field, f"is not a {level}")
    if root is not None:
        owner = root.company_id
    else:
        owner = get_company(session, principal, company_id or 0).id
    assets = session.scalars(
        owned_readable(Asset, principal).where(Asset.company_id == owner).order_by(Asset.code)
    ).all()
    by_id = {a.id: a for a in assets}

    def chain(asset: Asset) -> list[Asset]:
        found = [asset]
        while found[-1].parent_id is not None and found[-1].parent_id in by_id:
            found.append(by_id[found[-1].parent_id])
        return found

    machines = [
        (m, chain(m))
        for m in assets
        if m.level == "machine" and (root is None or any(a.id == root.id for a in chain(m)))
    ]
    tags: dict[int, dict[str, int]] = {}
    if machines:
        stmt = readable(
            select(Tag.machine_id, Tag.name, Tag.id), principal, Tag.company_id, Resource.assets
        ).where(Tag.machine_id.in_([m.id for m, _ in machines]))
        for machine_id, name, tag_id in session.execute(stmt.order_by(Tag.id)):
            if machine_id is not None:
                tags.setdefault(machine_id, {}).setdefault(name, tag_id)
    result = []
    for machine, ancestors in machines:
        line = next((a for a in ancestors if a.level == "line"), None)
        result.append(
            MachineTags(
                id=machine.id,
                company_id=machine.company_id,
                code=machine.code,
                name=machine.name,
                line_id=line.id if line else None,
                line_label=f"{line.code} · {line.name}" if line else "",
                tags=tags.get(machine.id, {}),
            )
        )
    return result


def overview(
    session: Session, principal: Principal, complex_id: int | None = None
) -> schemas.Overview:
    """The complex at a glance: counts per zone and industry, and the visible footprints."""
    cx = session.scalar(
        complexes_readable(principal)
        .where(Complex.id == complex_id if complex_id else Complex.kind == "hub")
        .order_by(Complex.id)
    )
    if cx is None:
        return schemas.Overview(
            complex=None, zones=[], companies_total=0, by_zone=[], by_industry=[], footprints=[]
        )
    zones = session.scalars(
        zones_readable(principal).where(Zone.complex_id == cx.id).order_by(Zone.code)
    ).all()
    # Counts are complex-wide aggregates; rows themselves stay filtered below.
    counted = session.execute(
        select(Company.zone_id, Company.ksic).where(Company.complex_id == cx.id, Company.active)
    ).all()
    per_zone = Counter(z for z, _ in counted)
    per_division = Counter(ksic_division(k) for _, k in counted)
    footprints = [
        {
            "id": c.id,
            "name": c.name,
            "name_en": c.name_en,
            "zone_id": c.zone_id,
            "ksic": c.ksic,
            "footprint": c.footprint,
        }
        for c in session.scalars(
            companies_readable(principal).where(
                Company.complex_id == cx.id, Company.active, Company.footprint.is_not(None)
            )
        )
    ]
    return schemas.Overview(
        complex=schemas.ComplexOut.model_validate(cx),
        zones=[schemas.ZoneOut.model_validate(z) for z in zones],
        companies_total=len(counted),
        by_zone=[
            schemas.CountRow(key=z.code, label=z.name, count=per_zone.get(z.id, 0)) for z in zones
        ],
        by_industry=[
            schemas.CountRow(key=d, label=KSIC_DIVISIONS.get(d, d), count=n)
            for d, n in per_division.most_common()
        ],
        footprints=footprints,
    )


# --- for other domains: the device a reading batch comes from, and readable tags ---------------


def ingest_tags(
    session: Session, principal: Principal, device_id: int | None
) -> tuple[schemas.DeviceOut, list[schemas.TagOut]]:
    """The sending device and its tags. A device key speaks for its own device only; a user
    with telemetry:write may send (backfill) for a device of a company they write."""
    if not principal.has(Scope.telemetry_write):
        raise PermissionDenied("sending readings needs telemetry:write")
    if principal.kind == "device":
        if device_id is not None and device_id != principal.device_id:
            raise PermissionDenied("a device key sends readings for its own device only")
        device_id = principal.device_id
    if device_id is None:
        raise ValidationFailed.one("device_id", "required when a user sends readings")
    device = session.get(Device, device_id)
    if device is None or not principal.writes_company(device.company_id):
        raise NotFound(f"device {device_id} not found")
    if not device.enabled:
        raise PermissionDenied(f"device {device_id} is disabled")
    tags = session.scalars(select(Tag).where(Tag.device_id == device.id).order_by(Tag.id)).all()
    return schemas.DeviceOut.model_validate(device), [
        schemas.TagOut.model_validate(t) for t in tags
    ]


def readable_tag_ids(session: Session, principal: Principal, tag_ids: list[int]) -> list[int]:
    """The subset of tag ids whose readings the principal may see."""
    if not tag_ids:
        return []
    stmt = readable(select(Tag.id), principal, Tag.company_id, Resource.assets)
    return list(session.scalars(stmt.where(Tag.id.in_(tag_ids)).order_by(Tag.id)))


def ingest_tag_rows(
    session: Session,
) -> list[tuple[int, int, int, str, float | None, float | None, str]]:
    """Every tag of every enabled device, as plain rows for an ingest worker's lookup table:
    (tag_id, device_id, company_id, name, range_min, range_max, data_type)."""
    rows = session.execute(
        select(
            Tag.id,
            Tag.device_id,
            Tag.company_id,
            Tag.name,
            Tag.range_min,
            Tag.range_max,
            Tag.data_type,
        )
        .join(Device, Device.id == Tag.device_id)
        .where(Device.enabled)
        .order_by(Tag.id)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def enabled_devices(session: Session) -> dict[int, int]:
    """device_id -> company_id of every enabled device (ingest workers check topics with it)."""
    return {
        d: c for d, c in session.execute(select(Device.id, Device.company_id).where(Device.enabled))
    }


def protocol_tag_rows(
    session: Session, protocol: str
) -> list[tuple[int, int, str, int | None, str | None, str | None, str | None]]:
    """Every enabled device of a protocol (`sparkplug`, `opcua`) with its tags, for the ingest
    worker that maps external ids to devices: (device_id, company_id, external_id, tag_id,
    tag name, source_address, data_type); a device without tags has one row of None."""
    rows = session.execute(
        select(
            Device.id,
            Device.company_id,
            Device.external_id,
            Tag.id,
            Tag.name,
            Tag.source_address,
            Tag.data_type,
        )
        .outerjoin(Tag, Tag.device_id == Device.id)
        .where(Device.enabled, Device.protocol == protocol)
        .order_by(Device.id, Tag.id)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def machine_tags(session: Session, principal: Principal, machine_id: int) -> dict[str, int]:
    """name -> tag id of the tags measuring a machine the principal may read."""
    machine = get_owned(session, principal, Asset, machine_id)
    if machine.level != "machine":
        raise ValidationFailed.one("machine_id", "is not a machine")
    stmt = owned_readable(Tag, principal).where(Tag.machine_id == machine.id).order_by(Tag.id)
    return {tag.name: tag.id for tag in session.scalars(stmt)}


def state_tags(session: Session, principal: Principal) -> list[tuple[int, int]]:
    """(tag_id, company_id) of every machine `state` tag the principal may read."""
    stmt = readable(select(Tag.id, Tag.company_id), principal, Tag.company_id, Resource.assets)
    return [(t, c) for t, c in session.execute(stmt.where(Tag.name == "state"))]


def ingest_tag_units(session: Session) -> dict[int, str]:
    """tag_id -> unit of every tag of every enabled device: the canonical units an ingest
    worker converts readings to (apart from `ingest_tag_rows`, whose row shape is unpacked)."""
    rows = session.execute(
        select(Tag.id, Tag.unit).join(Device, Device.id == Tag.device_id).where(Device.enabled)
    )
    return {tag_id: unit for tag_id, unit in rows}


def readable_tag_profiles(
    session: Session, principal: Principal, tag_ids: list[int]
) -> list[tuple[int, int, str, int]]:
    """(tag_id, device_id, name, sampling_ms) of the tags whose readings the principal may see,
    for the gap and data-quality reports."""
    if not tag_ids:
        return []
    stmt = readable(
        select(Tag.id, Tag.device_id, Tag.name, Tag.sampling_ms),
        principal,
        Tag.company_id,
        Resource.assets,
    )
    rows = session.execute(stmt.where(Tag.id.in_(tag_ids)).order_by(Tag.id))
    return [(t, d, n, s) for t, d, n, s in rows]


# --- who a company is, for the platform's own decisions ----------------------------------------


@dataclass(frozen=True)
class CompanyProfile:
    """The public facts about a company a data-sharing policy names recipients by."""

    id: int
    name: str
    brn: str
    ksic: str
    zone: str
    complex_code: str
    active: bool


def company_profiles(session: Session, company_ids: list[int]) -> dict[int, CompanyProfile]:
    """Profiles of these companies. Not a read on behalf of a caller (so not scoped): the
    platform uses it to evaluate access policies (recipient, industry, zone) and to name the
    parties of an agreement, and returns nothing beyond these public facts."""
    if not company_ids:
        return {}
    rows = session.execute(
        select(
            Company.id,
            Company.name,
            Company.brn,
            Company.ksic,
            Zone.code,
            Complex.code,
            Company.active,
        )
        .join(Zone, Zone.id == Company.zone_id)
        .join(Complex, Complex.id == Company.complex_id)
        .where(Company.id.in_(sorted(set(company_ids))))
    )
    return {r[0]: CompanyProfile(*r) for r in rows}


def company_by_brn(session: Session, brn: str) -> CompanyProfile | None:
    """A company by its business registration number: how a provider names the recipient of
    an offer (the public identifier it knows its customer by)."""
    company_id = session.scalar(select(Company.id).where(Company.brn == brn))
    return None if company_id is None else company_profiles(session, [company_id])[company_id]


# --- where companies are, for the safety domain's neighbours of an incident --------------------


@dataclass(frozen=True)
class Place:
    """A located point of a company: a site, or the centre of its premises."""

    company_id: int
    label: str
    lat: float
    lon: float


def company_places(session: Session, principal: Principal) -> list[Place]:
    """Every located site (its coordinates, else its footprint's centre) and every company's
    premises (its footprint's centre) the principal may read, to find who lies near a point."""
    places: list[Place] = []
    sites = readable(
        select(Site.company_id, Site.name, Site.lat, Site.lon, Site.footprint),
        principal,
        Site.company_id,
        Resource.directory,
    )
    for company_id, name, lat, lon, footprint in session.execute(sites.order_by(Site.id)):
        if lat is not None and lon is not None:
            places.append(Place(company_id, f"site: {name}", lat, lon))
        elif footprint:
            places.append(Place(company_id, f"site: {name}", *centroid(footprint)))
    premises = companies_readable(principal).where(Company.footprint.is_not(None))
    for company in session.scalars(premises.order_by(Company.id)):
        if company.footprint:
            places.append(Place(company.id, "premises", *centroid(company.footprint)))
    return places


def site_company_id(session: Session, principal: Principal, site_id: int) -> int:
    """The company a site the principal may read belongs to (NotFound otherwise)."""
    stmt = readable(select(Site.company_id), principal, Site.company_id, Resource.directory)
    company_id = session.scalar(stmt.where(Site.id == site_id))
    if company_id is None:
        raise NotFound(f"site {site_id} not found")
    return int(company_id)


# --- where a tag is, for the alarm engine ------------------------------------------------------


@dataclass(frozen=True)
class TagPlace:
    """A tag's owner, name and unit, and where its device stands (site coordinates, else the
    site's or the company's footprint centre; None when nothing is drawn)."""

    tag_id: int
    company_id: int
    name: str
    unit: str
    lat: float | None
    lon: float | None


def tag_places(session: Session, principal: Principal, tag_ids: list[int]) -> dict[int, TagPlace]:
    """The places of the tags the principal may read (others are left out)."""
    if not tag_ids:
        return {}
    stmt = readable(
        select(Tag.id, Tag.company_id, Tag.name, Tag.unit, Site.lat, Site.lon, Site.footprint)
        .join(Device, Device.id == Tag.device_id)
        .join(Site, Site.id == Device.site_id),
        principal,
        Tag.company_id,
        Resource.assets,
    )
    places: dict[int, TagPlace] = {}
    for tag_id, company_id, name, unit, lat, lon, footprint in session.execute(
        stmt.where(Tag.id.in_(sorted(set(tag_ids))))
    ):
        if (lat is None or lon is None) and footprint:
            lat, lon = centroid(footprint)
        if lat is None or lon is None:
            premises = session.scalar(select(Company.footprint).where(Company.id == company_id))
            lat, lon = centroid(premises) if premises else (None, None)
        places[tag_id] = TagPlace(tag_id, company_id, name, unit, lat, lon)
    return places


# --- where companies are, and tags by name, for the complex's infrastructure models -----------


@dataclass(frozen=True)
class CompanyLocation:
    """Where a company's (first) plant is and what it is, for network models (water)."""

    id: int
    name: str
    zone: str
    ksic: str
    employees: int | None
    lat: float | None
    lon: float | None
    site_id: int | None  # its first site, where a utility meter's device is registered


def company_locations(session: Session, principal: Principal) -> list[CompanyLocation]:
    """Active companies the principal may read, located by their first site with
    coordinates, else their footprint's centre, else their zone's centre; by id."""
    companies = session.scalars(companies_readable(principal).where(Company.active)).all()
    zones = {z.id: z for z in session.scalars(zones_readable(principal))}
    sites: dict[int, list[Site]] = {}
    stmt = owned_readable(Site, principal).order_by(Site.id)
    for site in session.scalars(stmt.where(Site.company_id.in_([c.id for c in companies]))):
        sites.setdefault(site.company_id, []).append(site)
    out: list[CompanyLocation] = []
    for c in sorted(companies, key=lambda c: c.id):
        own = sites.get(c.id, [])
        placed = [s for s in own if s.lat is not None and s.lon is not None]
        zone = zones.get(c.zone_id)
        point: tuple[float | None, float | None] = (None, None)
        if placed:
            point = (placed[0].lat, placed[0].lon)
        elif c.footprint:
            point = centroid(c.footprint)
        elif zone is not None and zone.boundary:
            point = centroid(zone.boundary)
        out.append(
            CompanyLocation(
                c.id,
                c.name,
                zone.code if zone else "",
                c.ksic,
                c.employees,
                point[0],
                point[1],
                own[0].id if own else None,
            )
        )
    return out


def tags_named(
    session: Session, principal: Principal, names: list[str]
) -> list[tuple[int, int, str]]:
    """(tag_id, company_id, name) of the readable tags with one of these names, by id."""
    if not names:
        return []
    stmt = readable(
        select(Tag.id, Tag.company_id, Tag.name), principal, Tag.company_id, Resource.assets
    )
    rows = session.execute(stmt.where(Tag.name.in_(sorted(set(names)))).order_by(Tag.id))
    return [(t, c, n) for t, c, n in rows]
