"""Demo data of sharing: the first demo company offers its first line's hourly energy and OEE
to the second (its parent company) and a daily OEE product to the whole complex; the parent
has asked for the first offer and both signed, so every sharing page has something real."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.registry import service as registry
from sandan.sharing import policy as odrl
from sandan.sharing.schemas import NegotiationRequest, OfferIn, ProductSelection
from sandan.sharing.service import negotiations, offers
from sandan.sharing.service.negotiations import Keys

DAY = 86_400


def _admin_of(company_id: int) -> Principal:
    role = Role.company_admin
    return Principal(
        kind="system",
        name=f"demo-seed:{company_id}",
        company_id=company_id,
        roles=frozenset({role}),
        scopes=ROLE_SCOPES[role],
    )


def _terms(parent: int) -> odrl.Policy:
    c = odrl.Constraint
    return odrl.Policy(
        uid="urn:sandan:policy:demo-supplier-to-parent",
        permissions=(
            odrl.Permission(
                action=odrl.Action.use,
                constraints=(
                    c(
                        left=odrl.Operand.purpose,
                        operator=odrl.Operator.eq,
                        right="quality_improvement",
                    ),
                    c(left=odrl.Operand.recipient, operator=odrl.Operator.eq, right=parent),
                    c(left=odrl.Operand.elapsed_time, operator=odrl.Operator.lteq, right=30 * DAY),
                    c(left=odrl.Operand.count, operator=odrl.Operator.lteq, right=100),
                    c(left=odrl.Operand.resolution, operator=odrl.Operator.gteq, right=3600),
                ),
            ),
        ),
        prohibitions=(odrl.Prohibition(action=odrl.Action.distribute),),
    )


def seed_sharing(session: Session, company_ids: list[int], keys: Keys) -> None:
    """Offers and one signed agreement between the first two demo companies."""
    if len(company_ids) < 2:
        return
    supplier, parent = company_ids[0], company_ids[1]
    seller = _admin_of(supplier)
    machines = registry.machines_with_tags(session, seller, company_id=supplier)
    line = next((m.line_id for m in machines if m.line_id is not None), None)
    if line is None:
        return
    only_parent = odrl.Policy(
        uid="urn:sandan:policy:demo-visible-to-parent",
        permissions=(
            odrl.Permission(
                action=odrl.Action.use,
                constraints=(
                    odrl.Constraint(
                        left=odrl.Operand.recipient, operator=odrl.Operator.eq, right=parent
                    ),
                ),
            ),
        ),
    )
    to_parent = offers.create_offer(
        session,
        seller,
        OfferIn(
            title="라인 시간별 에너지·OEE (Line hourly energy and OEE)",
            description="모회사 품질 개선용. For the parent company's quality improvement.",
            keywords=["oee", "energy", "hourly"],
            selection=ProductSelection(product="line_hourly", line_id=line, live=True),
            access_policy=only_parent,
            contract_policy=_terms(parent),
            price_model="one_off",
            price_krw=120_000,
            approval="auto",
        ),
    )
    offers.create_offer(
        session,
        seller,
        OfferIn(
            title="일별 OEE (Daily OEE)",
            description="단지 벤치마킹용. For benchmarking across the complex.",
            keywords=["oee", "daily"],
            selection=ProductSelection(product="daily_oee"),
            contract_policy=odrl.Policy(
                uid="urn:sandan:policy:demo-open",
                permissions=(odrl.Permission(action=odrl.Action.use),),
            ),
            price_model="monthly",
            price_krw=30_000,
            approval="manual",
        ),
    )
    negotiations.start(
        session,
        _admin_of(parent),
        NegotiationRequest(offer_id=to_parent.id, purpose="quality_improvement"),
        keys,
    )
