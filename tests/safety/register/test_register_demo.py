"""The demo's hazard register: every demo company has facilities beside its plant, materials
with valid CAS numbers and two emergency contacts; shelters and one route per zone."""

from __future__ import annotations

from sqlalchemy import func, select

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.registry.demo import seed_demo
from sandan.safety.register import service
from sandan.safety.register.demo import ROUTES, SHELTERS, seed_hazards
from sandan.safety.register.models import EmergencyContact, Facility, HazardousMaterial
from sandan.safety.register.validators import cas_problem


def test_demo_register(ctx: Context) -> None:
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        seed_demo(s, n_companies=8)
        made = seed_hazards(s)
    with ctx.db.unit(system) as s:
        companies = {p.company_id for p in registry.company_places(s, system)}
        materials = s.scalars(select(HazardousMaterial)).all()
        with_facilities = set(s.scalars(select(Facility.company_id)))
        per_company = dict(
            s.execute(
                select(EmergencyContact.company_id, func.count()).group_by(
                    EmergencyContact.company_id
                )
            ).all()
        )
        first = min(companies)
        fab = {m.cas for m in materials if m.company_id == first}
        affected = service.affected_companies(s, system, 36.0985, 128.3700, 3000)
    assert with_facilities == companies and set(per_company.values()) == {2}
    assert made.materials == len(materials) and made.contacts == 2 * len(companies)
    assert all(cas_problem(m.cas) is None for m in materials)
    assert all(m.max_quantity is not None and m.quantity <= m.max_quantity for m in materials)
    assert {"7664-39-3", "7664-41-7", "7782-50-5"} <= fab  # the first company is a fab
    assert (made.shelters, made.routes) == (len(SHELTERS), len(ROUTES)) == (6, 4)
    assert affected and all(a.materials and a.contacts for a in affected)
    assert [a.distance_m for a in affected] == sorted(a.distance_m for a in affected)
