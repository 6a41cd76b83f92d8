"""Rules of the hazard register. A company's facilities, materials and emergency contacts are
read by that company and by the complex's safety duties (Resource.hazards); they are written by
the company's admin (hazards:write) and by the safety and complex operators. The shelters and
routes of the complex are read by everyone logged in and written by safety:operate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from sandan.core.audit import service as audit
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.tenancy import readable
from sandan.registry import service as registry
from sandan.safety.register import schemas
from sandan.safety.register.geo import haversine_m
from sandan.safety.register.models import (
    EmergencyContact,
    EvacuationRoute,
    Facility,
    HazardousMaterial,
    Shelter,
)

Owned = TypeVar("Owned", Facility, HazardousMaterial, EmergencyContact)
Complexwide = TypeVar("Complexwide", Shelter, EvacuationRoute)

_WHAT: dict[type[Any], str] = {
    Facility: "facility",
    HazardousMaterial: "hazardous material",
    EmergencyContact: "emergency contact",
    Shelter: "shelter",
    EvacuationRoute: "evacuation route",
}


# --- who may write -------------------------------------------------------------------------------


def may_write(principal: Principal, company_id: int) -> bool:
    """A company's admin writes its own register; the complex's safety duties write every one."""
    if not principal.has(Scope.hazards_write):
        return False
    if principal.company_id is None:
        return principal.reads_all(Resource.hazards)
    return principal.company_id == company_id


def _ensure_writable(principal: Principal, company_id: int) -> None:
    if not may_write(principal, company_id):
        raise PermissionDenied(f"you may not change the hazard register of company {company_id}")


def _ensure_operator(principal: Principal) -> None:
    if not principal.has(Scope.safety_operate):
        raise PermissionDenied("shelters and evacuation routes are kept by the safety operators")


# --- company rows --------------------------------------------------------------------------------


def owned_readable(model: type[Owned], principal: Principal) -> Select[Owned]:
    """The register rows of this kind the principal may read (own company or duty-wide)."""
    return readable(select(model), principal, model.company_id, Resource.hazards)


def get_owned(session: Session, principal: Principal, model: type[Owned], row_id: int) -> Owned:
    """A readable row, or NotFound (another company's row looks missing)."""
    row = session.scalar(owned_readable(model, principal).where(model.id == row_id))
    if row is None:
        raise NotFound(f"{_WHAT[model]} {row_id} not found")
    return row


def list_owned(
    session: Session, principal: Principal, model: type[Owned], company_id: int | None = None
) -> list[Owned]:
    """Readable rows of one kind, optionally of one company, in a stable order."""
    stmt = owned_readable(model, principal)
    if company_id is not None:
        stmt = stmt.where(model.company_id == company_id)
    order = EmergencyContact.call_order if model is EmergencyContact else model.name
    return list(session.scalars(stmt.order_by(model.company_id, order, model.id)))


def _company_visible(session: Session, principal: Principal, company_id: int) -> None:
    """A write names a company the writer can see; otherwise it does not exist for them."""
    if not registry.company_profiles(session, [company_id]) or not (
        principal.reads_all(Resource.hazards) or principal.company_id == company_id
    ):
        raise NotFound(f"company {company_id} not found")


def _check_site(session: Session, principal: Principal, company_id: int, site_id: int) -> None:
    try:
        owner = registry.site_company_id(session, principal, site_id)
    except NotFound:
        raise ValidationFailed.one("site_id", f"no site {site_id}") from None
    if owner != company_id:
        raise ValidationFailed.one("site_id", "belongs to another company")


def _facility_of(session: Session, principal: Principal, company_id: int, facility_id: int) -> None:
    owner = session.scalar(
        readable(
            select(Facility.company_id), principal, Facility.company_id, Resource.hazards
        ).where(Facility.id == facility_id)
    )
    if owner is None:
        raise ValidationFailed.one("facility_id", f"no facility {facility_id}")
    if owner != company_id:
        raise ValidationFailed.one("facility_id", "belongs to another company")


def create_facility(session: Session, principal: Principal, data: schemas.FacilityIn) -> Facility:
    """Add a storage location; a named site must be the same company's."""
    _company_visible(session, principal, data.company_id)
    _ensure_writable(principal, data.company_id)
    if data.site_id is not None:
        _check_site(session, principal, data.company_id, data.site_id)
    row = Facility(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def create_material(
    session: Session, principal: Principal, data: schemas.MaterialIn
) -> HazardousMaterial:
    """Record a hazardous material held at a facility; it belongs to the facility's company."""
    facility = get_owned(session, principal, Facility, data.facility_id)
    _ensure_writable(principal, facility.company_id)
    _check_quantity(data.quantity, data.max_quantity)
    row = HazardousMaterial(company_id=facility.company_id, **data.model_dump())
    session.add(row)
    session.flush()
    return row


def _check_quantity(quantity: float, max_quantity: float | None) -> None:
    if max_quantity is not None and quantity > max_quantity:
        raise ValidationFailed.one("quantity", f"exceeds the permitted maximum {max_quantity:g}")


def create_contact(
    session: Session, principal: Principal, data: schemas.EmergencyContactIn
) -> EmergencyContact:
    """Add a 24-hour emergency contact of a company."""
    _company_visible(session, principal, data.company_id)
    _ensure_writable(principal, data.company_id)
    row = EmergencyContact(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def update_owned(
    session: Session, principal: Principal, model: type[Owned], row_id: int, patch: BaseModel
) -> Owned:
    """Change the fields a patch sets, under the same rules as creating the row."""
    row = get_owned(session, principal, model, row_id)
    _ensure_writable(principal, row.company_id)
    changes = patch.model_dump(exclude_unset=True)
    if isinstance(row, Facility) and changes.get("site_id") is not None:
        _check_site(session, principal, row.company_id, changes["site_id"])
    if isinstance(row, HazardousMaterial):
        if changes.get("facility_id") is not None:
            _facility_of(session, principal, row.company_id, changes["facility_id"])
        _check_quantity(
            changes.get("quantity", row.quantity), changes.get("max_quantity", row.max_quantity)
        )
    for key, value in changes.items():
        if value is not None or key in ("site_id", "max_quantity"):
            setattr(row, key, value)
    session.flush()
    return row


def delete_owned(session: Session, principal: Principal, model: type[Owned], row_id: int) -> None:
    """Remove a row (a facility takes its materials with it)."""
    row = get_owned(session, principal, model, row_id)
    _ensure_writable(principal, row.company_id)
    if isinstance(row, Facility):  # materials first, in SQL: the ORM knows no relationship
        session.execute(delete(HazardousMaterial).where(HazardousMaterial.facility_id == row.id))
    session.delete(row)
    session.flush()


def register_of(session: Session, principal: Principal, company_id: int) -> schemas.HazardRegister:
    """A company's whole register: facilities, materials and emergency contacts."""
    _company_visible(session, principal, company_id)
    profiles = registry.company_profiles(session, [company_id])
    return schemas.HazardRegister(
        company_id=company_id,
        company_name=profiles[company_id].name,
        facilities=_out(schemas.FacilityOut, list_owned(session, principal, Facility, company_id)),
        materials=_out(
            schemas.MaterialOut, list_owned(session, principal, HazardousMaterial, company_id)
        ),
        contacts=_out(
            schemas.EmergencyContactOut,
            list_owned(session, principal, EmergencyContact, company_id),
        ),
    )


M = TypeVar("M", bound=BaseModel)


def _out(shape: type[M], rows: Iterable[Any]) -> list[M]:
    return [shape.model_validate(r) for r in rows]


# --- the complex's shelters and evacuation routes ------------------------------------------------


def list_complexwide(session: Session, model: type[Complexwide]) -> list[Complexwide]:
    """Shelters or routes: public to everyone logged in, so that anyone can find the way out."""
    return list(session.scalars(select(model).order_by(model.name, model.id)))


def create_shelter(session: Session, principal: Principal, data: schemas.ShelterIn) -> Shelter:
    """Add a shelter or an assembly point."""
    _ensure_operator(principal)
    row = Shelter(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def create_route(session: Session, principal: Principal, data: schemas.RouteIn) -> EvacuationRoute:
    """Add an evacuation route (a polyline of [lat, lon] points)."""
    _ensure_operator(principal)
    row = EvacuationRoute(
        name=data.name, zone=data.zone, points=[[lat, lon] for lat, lon in data.points]
    )
    session.add(row)
    session.flush()
    return row


def delete_complexwide(
    session: Session, principal: Principal, model: type[Complexwide], row_id: int
) -> None:
    """Remove a shelter or a route."""
    _ensure_operator(principal)
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{_WHAT[model]} {row_id} not found")
    session.delete(row)
    session.flush()


# --- who is near a point -------------------------------------------------------------------------


def affected_companies(
    session: Session, principal: Principal, lat: float, lon: float, radius_m: float
) -> list[schemas.AffectedCompany]:
    """Companies with a site, facility or premises within `radius_m` of (lat, lon), nearest
    first, each with its hazardous materials and emergency contacts. It reads across companies,
    so only the safety duties may ask, and every call is written to the audit log."""
    if not principal.has(Scope.safety_operate) or not principal.reads_all(Resource.hazards):
        raise PermissionDenied("finding the companies around a point needs safety:operate")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed.one("lat", "not a latitude/longitude")
    if not 0 < radius_m <= 50_000:
        raise ValidationFailed.one("radius_m", "must be more than 0 and at most 50 km")
    nearest = _nearest(session, principal, lat, lon, radius_m)
    ids = list(nearest)
    profiles = registry.company_profiles(session, ids)
    materials = _grouped(
        session.scalars(
            owned_readable(HazardousMaterial, principal)
            .where(HazardousMaterial.company_id.in_(ids))
            .order_by(HazardousMaterial.name, HazardousMaterial.id)
        ),
        schemas.MaterialOut,
    )
    contacts = _grouped(
        session.scalars(
            owned_readable(EmergencyContact, principal)
            .where(EmergencyContact.company_id.in_(ids))
            .order_by(EmergencyContact.call_order, EmergencyContact.id)
        ),
        schemas.EmergencyContactOut,
    )
    found = [
        schemas.AffectedCompany(
            company_id=cid,
            company_name=profiles[cid].name if cid in profiles else str(cid),
            distance_m=round(distance, 1),
            nearest=label,
            materials=materials.get(cid, []),
            contacts=contacts.get(cid, []),
        )
        for cid, (distance, label) in sorted(nearest.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]
    query = {"lat": lat, "lon": lon, "radius_m": radius_m}
    audit.append_many(
        session,
        principal,
        [
            {
                "action": "read",
                "entity": "safety_affected_companies",
                "company_id": c.company_id,
                "after": {**query, "distance_m": c.distance_m},
            }
            for c in found
        ]
        or [{"action": "read", "entity": "safety_affected_companies", "after": query}],
    )
    return found


def _nearest(
    session: Session, principal: Principal, lat: float, lon: float, radius_m: float
) -> dict[int, tuple[float, str]]:
    """company_id -> (distance, what) of its nearest located point within the radius."""
    companies: list[int] = []
    labels: list[str] = []
    lats: list[float] = []
    lons: list[float] = []
    for place in registry.company_places(session, principal):
        companies.append(place.company_id)
        labels.append(place.label)
        lats.append(place.lat)
        lons.append(place.lon)
    facilities = readable(
        select(Facility.company_id, Facility.name, Facility.lat, Facility.lon),
        principal,
        Facility.company_id,
        Resource.hazards,
    )
    for company_id, name, flat, flon in session.execute(facilities):
        companies.append(company_id)
        labels.append(f"facility: {name}")
        lats.append(flat)
        lons.append(flon)
    if not companies:
        return {}
    distances = haversine_m(lat, lon, lats, lons)
    inside = np.flatnonzero(distances <= radius_m)
    best: dict[int, tuple[float, str]] = {}
    for i in inside[np.argsort(distances[inside], kind="stable")]:
        best.setdefault(companies[i], (float(distances[i]), labels[i]))
    return best


def _grouped(rows: Iterable[Any], shape: type[M]) -> dict[int, list[M]]:
    grouped: dict[int, list[M]] = {}
    for row in rows:
        grouped.setdefault(row.company_id, []).append(shape.model_validate(row))
    return grouped
