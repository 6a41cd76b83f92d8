"""Rows of the hazard register and an incident for the authorization matrix (test_authz.py):
company A's facility, material and emergency contact, a shelter, a route, and an incident
with a task, made through the services as the system."""

from __future__ import annotations

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.incidents import schemas as incident_schemas
from sandan.safety.incidents import service as incidents
from sandan.safety.register import schemas, service


def seed_for_matrix(ctx: Context, world: World) -> dict[str, int]:
    system = Principal.system("authz")
    a = world.companies["A"]
    with ctx.db.unit(system) as s:
        facility = service.create_facility(
            s,
            system,
            schemas.FacilityIn(
                company_id=a, name="T-1", kind="storage_tank", lat=36.06, lon=128.31
            ),
        )
        material = service.create_material(
            s,
            system,
            schemas.MaterialIn(facility_id=facility.id, name="불산", cas="7664-39-3", quantity=5),
        )
        contact = service.create_contact(
            s,
            system,
            schemas.EmergencyContactIn(company_id=a, name="김안전", phone="010-1111-2222"),
        )
        shelter = service.create_shelter(
            s, system, schemas.ShelterIn(name="체육관", lat=36.07, lon=128.32, capacity=100)
        )
        route = service.create_route(
            s, system, schemas.RouteIn(name="북문", points=[(36.06, 128.31), (36.07, 128.32)])
        )
        incident = incidents.open_incident(
            s,
            system,
            incident_schemas.IncidentIn(
                title="가스 누출", kind="gas", severity=3, lat=36.06, lon=128.31
            ),
        )
        task = incidents.add_task(s, system, incident.id, incident_schemas.TaskIn(title="대피"))
        return {
            "facility_id": facility.id,
            "material_id": material.id,
            "emergency_contact_id": contact.id,
            "shelter_id": shelter.id,
            "route_id": route.id,
            "incident_id": incident.id,
            "task_id": task.id,
        }
