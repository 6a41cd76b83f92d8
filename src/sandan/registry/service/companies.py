"""Companies and their contacts: readable by their own people or for complex-level
duties, onboarded, moved and deactivated by the operator only."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import ensure_writable, readable
from sandan.registry import schemas
from sandan.registry.models import Company, Contact, Zone
from sandan.registry.service._common import apply_changes


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
    apply_changes(company, changes)
    session.flush()
    raise_event(session, "registry.company_updated", {"company_id": company.id})
    return company


def add_contact(
    session: Session, principal: Principal, company_id: int, data: schemas.ContactIn
) -> Contact:
    company = get_company(session, principal, company_id)
    ensure_writable(principal, company.id, "contacts")
    row = Contact(company_id=company.id, **data.model_dump())
    session.add(row)
    session.flush()
    return row
