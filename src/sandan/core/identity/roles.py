"""Roles, scopes and what each role may read across the complex."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A person's job on the platform."""

    complex_operator = "complex_operator"
    company_admin = "company_admin"
    company_member = "company_member"
    safety_operator = "safety_operator"
    logistics_operator = "logistics_operator"
    auditor = "auditor"


class Scope(StrEnum):
    """A permission a route asks for; API tokens carry a subset of their owner's."""

    registry_read = "registry:read"
    registry_write = "registry:write"
    complex_admin = "complex:admin"
    users_read = "users:read"
    users_write = "users:write"
    tokens = "tokens"
    audit_read = "audit:read"
    import_write = "import:write"
    telemetry_write = "telemetry:write"
    sharing_write = "sharing:write"  # publish offers, negotiate, take data under agreements
    hazards_write = "hazards:write"  # a company's hazard register: facilities, materials, contacts
    safety_operate = "safety:operate"  # control centre: alarms, incidents, cameras, water, traffic
    warehouse_order = "warehouse:order"  # a tenant's ASNs, items and outbound orders
    warehouse_operate = "warehouse:operate"  # the shared warehouse floor: docks, receiving, picking


class Resource(StrEnum):
    """Kinds of company-owned rows, for deciding who reads them complex-wide."""

    directory = "directory"  # companies, sites, contacts
    assets = "assets"  # asset tree, devices, tags
    users = "users"
    hazards = "hazards"  # facilities, hazardous materials, emergency contacts
    warehouse = "warehouse"  # items, stock, orders and bills in the shared warehouse


# Roles that are bound to a company; the others act for the complex.
COMPANY_ROLES = frozenset({Role.company_admin, Role.company_member})

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.complex_operator: frozenset(Scope),
    Role.company_admin: frozenset(
        {
            Scope.registry_read,
            Scope.registry_write,
            Scope.users_read,
            Scope.users_write,
            Scope.tokens,
            Scope.telemetry_write,
            Scope.sharing_write,
            Scope.hazards_write,
            Scope.warehouse_order,
        }
    ),
    Role.company_member: frozenset({Scope.registry_read, Scope.tokens}),
    Role.safety_operator: frozenset(
        {Scope.registry_read, Scope.tokens, Scope.hazards_write, Scope.safety_operate}
    ),
    Role.logistics_operator: frozenset(
        {Scope.registry_read, Scope.tokens, Scope.warehouse_operate}
    ),
    Role.auditor: frozenset(
        {Scope.registry_read, Scope.users_read, Scope.audit_read, Scope.tokens}
    ),
}

# What each complex-level role may read in every company, by duty.
ROLE_READS_ALL: dict[Role, frozenset[Resource]] = {
    Role.complex_operator: frozenset(Resource),
    Role.auditor: frozenset(Resource),
    Role.safety_operator: frozenset({Resource.directory, Resource.assets, Resource.hazards}),
    Role.logistics_operator: frozenset({Resource.directory, Resource.warehouse}),
}
