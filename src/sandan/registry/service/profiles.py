"""Who a company is, for the platform's own decisions (data-sharing policies, agreements,
offers)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.registry.models import Company, Complex, Zone


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
