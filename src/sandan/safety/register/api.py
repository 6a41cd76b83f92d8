"""HTTP routes of the hazard register (under /api/v1/safety): a company's facilities,
hazardous materials and emergency contacts; the complex's shelters and evacuation routes; and
the companies around a point."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sandan.core.http import DbSession, HazardsWrite, RegistryRead, SafetyOperate
from sandan.core.types import IdPath, IdQuery
from sandan.safety.register import schemas, service
from sandan.safety.register.models import (
    EmergencyContact,
    EvacuationRoute,
    Facility,
    HazardousMaterial,
    Shelter,
)

router = APIRouter(tags=["safety: hazard register"])


@router.get("/hazards/companies/{company_id}", response_model=schemas.HazardRegister)
def company_register(
    company_id: IdPath, principal: RegistryRead, session: DbSession
) -> schemas.HazardRegister:
    """A company's whole hazard register: facilities, materials and emergency contacts."""
    return service.register_of(session, principal, company_id)


@router.get("/hazards/facilities", response_model=list[schemas.FacilityOut])
def list_facilities(
    principal: RegistryRead, session: DbSession, company_id: IdQuery = None
) -> list[Facility]:
    """Facilities the caller may read (own company, or all for the safety duties)."""
    return service.list_owned(session, principal, Facility, company_id)


@router.post("/hazards/facilities", response_model=schemas.FacilityOut, status_code=201)
def create_facility(
    data: schemas.FacilityIn, principal: HazardsWrite, session: DbSession
) -> Facility:
    """Add a storage tank, gas cabinet, warehouse ... of a company."""
    return service.create_facility(session, principal, data)


@router.patch("/hazards/facilities/{facility_id}", response_model=schemas.FacilityOut)
def update_facility(
    facility_id: IdPath, data: schemas.FacilityPatch, principal: HazardsWrite, session: DbSession
) -> Facility:
    """Change a facility."""
    return service.update_owned(session, principal, Facility, facility_id, data)


@router.delete("/hazards/facilities/{facility_id}", status_code=204)
def delete_facility(facility_id: IdPath, principal: HazardsWrite, session: DbSession) -> None:
    """Remove a facility and the materials recorded at it."""
    service.delete_owned(session, principal, Facility, facility_id)


@router.get("/hazards/materials", response_model=list[schemas.MaterialOut])
def list_materials(
    principal: RegistryRead, session: DbSession, company_id: IdQuery = None
) -> list[HazardousMaterial]:
    """Hazardous materials the caller may read."""
    return service.list_owned(session, principal, HazardousMaterial, company_id)


@router.post("/hazards/materials", response_model=schemas.MaterialOut, status_code=201)
def create_material(
    data: schemas.MaterialIn, principal: HazardsWrite, session: DbSession
) -> HazardousMaterial:
    """Record a hazardous material at a facility; a CAS number with a wrong check digit is a
    422 naming `cas`."""
    return service.create_material(session, principal, data)


@router.patch("/hazards/materials/{material_id}", response_model=schemas.MaterialOut)
def update_material(
    material_id: IdPath, data: schemas.MaterialPatch, principal: HazardsWrite, session: DbSession
) -> HazardousMaterial:
    """Change a material (its quantity, most often)."""
    return service.update_owned(session, principal, HazardousMaterial, material_id, data)


@router.delete("/hazards/materials/{material_id}", status_code=204)
def delete_material(material_id: IdPath, principal: HazardsWrite, session: DbSession) -> None:
    """Remove a material."""
    service.delete_owned(session, principal, HazardousMaterial, material_id)


@router.get("/hazards/contacts", response_model=list[schemas.EmergencyContactOut])
def list_contacts(
    principal: RegistryRead, session: DbSession, company_id: IdQuery = None
) -> list[EmergencyContact]:
    """Emergency contacts the caller may read, in call order."""
    return service.list_owned(session, principal, EmergencyContact, company_id)


@router.post("/hazards/contacts", response_model=schemas.EmergencyContactOut, status_code=201)
def create_contact(
    data: schemas.EmergencyContactIn, principal: HazardsWrite, session: DbSession
) -> EmergencyContact:
    """Add a 24-hour emergency contact."""
    return service.create_contact(session, principal, data)


@router.patch(
    "/hazards/contacts/{emergency_contact_id}", response_model=schemas.EmergencyContactOut
)
def update_contact(
    emergency_contact_id: IdPath,
    data: schemas.EmergencyContactPatch,
    principal: HazardsWrite,
    session: DbSession,
) -> EmergencyContact:
    """Change an emergency contact."""
    return service.update_owned(session, principal, EmergencyContact, emergency_contact_id, data)


@router.delete("/hazards/contacts/{emergency_contact_id}", status_code=204)
def delete_contact(
    emergency_contact_id: IdPath, principal: HazardsWrite, session: DbSession
) -> None:
    """Remove an emergency contact."""
    service.delete_owned(session, principal, EmergencyContact, emergency_contact_id)


@router.get("/hazards/affected", response_model=list[schemas.AffectedCompany])
def affected(
    principal: SafetyOperate,
    session: DbSession,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    radius_m: Annotated[float, Query(gt=0, le=50_000)] = 500,
) -> list[schemas.AffectedCompany]:
    """Companies within the radius of a point, nearest first, with their hazardous materials
    and emergency contacts (audited)."""
    return service.affected_companies(session, principal, lat, lon, radius_m)


@router.get("/shelters", response_model=list[schemas.ShelterOut])
def list_shelters(principal: RegistryRead, session: DbSession) -> list[Shelter]:
    """Shelters and assembly points of the complex."""
    return service.list_complexwide(session, Shelter)


@router.post("/shelters", response_model=schemas.ShelterOut, status_code=201)
def create_shelter(data: schemas.ShelterIn, principal: SafetyOperate, session: DbSession) -> Any:
    """Add a shelter or an assembly point."""
    return service.create_shelter(session, principal, data)


@router.delete("/shelters/{shelter_id}", status_code=204)
def delete_shelter(shelter_id: IdPath, principal: SafetyOperate, session: DbSession) -> None:
    """Remove a shelter or an assembly point."""
    service.delete_complexwide(session, principal, Shelter, shelter_id)


@router.get("/evacuation-routes", response_model=list[schemas.RouteOut])
def list_routes(principal: RegistryRead, session: DbSession) -> list[EvacuationRoute]:
    """Evacuation routes of the complex, as polylines of [lat, lon]."""
    return service.list_complexwide(session, EvacuationRoute)


@router.post("/evacuation-routes", response_model=schemas.RouteOut, status_code=201)
def create_route(data: schemas.RouteIn, principal: SafetyOperate, session: DbSession) -> Any:
    """Add an evacuation route."""
    return service.create_route(session, principal, data)


@router.delete("/evacuation-routes/{route_id}", status_code=204)
def delete_route(route_id: IdPath, principal: SafetyOperate, session: DbSession) -> None:
    """Remove an evacuation route."""
    service.delete_complexwide(session, principal, EvacuationRoute, route_id)
