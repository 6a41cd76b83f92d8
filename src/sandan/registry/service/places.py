"""Where companies and tags are: neighbours of an incident (safety), a tag's place (the
alarm engine) and companies' locations (the complex's infrastructure models)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.errors import NotFound
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import readable
from sandan.registry.geo import centroid
from sandan.registry.models import Company, Device, Site, Tag
from sandan.registry.service.companies import companies_readable
from sandan.registry.service.complexes import zones_readable
from sandan.registry.service.owned import owned_readable


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
