"""Offers and the catalogue: what a company publishes, who may see it (the access policy),
and the catalogue as DCAT JSON-LD with each dataset's ODRL offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import NotFound, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role, Scope
from sandan.core.tenancy import ensure_writable
from sandan.registry import service as registry
from sandan.registry.service import CompanyProfile
from sandan.sharing import policy as odrl
from sandan.sharing.models import Offer
from sandan.sharing.schemas import (
    FileSelection,
    OfferIn,
    Selection,
    TelemetrySelection,
)
from sandan.sharing.service.parties import participant_id, profile

# What each derived product delivers, per row: its schema and time resolution.
PRODUCT_SCHEMAS: dict[str, tuple[int, list[dict[str, str]]]] = {
    "line_hourly": (
        3600,
        [
            {"name": "hour", "type": "datetime"},
            {"name": "kwh", "type": "float", "unit": "kWh"},
            {"name": "availability", "type": "float"},
            {"name": "performance", "type": "float"},
            {"name": "quality", "type": "float"},
            {"name": "oee", "type": "float"},
            {"name": "produced", "type": "float"},
            {"name": "good", "type": "float"},
        ],
    ),
    "daily_oee": (
        86400,
        [
            {"name": "day", "type": "date"},
            {"name": "availability", "type": "float"},
            {"name": "performance", "type": "float"},
            {"name": "quality", "type": "float"},
            {"name": "oee", "type": "float"},
            {"name": "produced", "type": "float"},
            {"name": "good", "type": "float"},
        ],
    ),
    "energy_profile": (
        3600,
        [
            {"name": "hour", "type": "datetime"},
            {"name": "kwh", "type": "float", "unit": "kWh"},
            {"name": "kwh_per_good_unit", "type": "float"},
        ],
    ),
    "quality_stats": (
        86400,
        [
            {"name": "day", "type": "date"},
            {"name": "produced", "type": "float"},
            {"name": "good", "type": "float"},
            {"name": "rejects", "type": "float"},
            {"name": "quality", "type": "float"},
        ],
    ),
}

TELEMETRY_SCHEMA = [
    {"name": "tag_id", "type": "int"},
    {"name": "ts", "type": "datetime"},
    {"name": "value", "type": "float", "resolution": "raw"},
    {"name": "avg", "type": "float", "resolution": "1m/1h"},
    {"name": "min", "type": "float", "resolution": "1m/1h"},
    {"name": "max", "type": "float", "resolution": "1m/1h"},
    {"name": "count", "type": "int", "resolution": "1m/1h"},
    {"name": "last", "type": "float", "resolution": "1m/1h"},
]

OPEN_TO_THE_COMPLEX = odrl.Policy(
    uid="urn:sandan:policy:open", permissions=[odrl.Permission(action=odrl.Action.use)]
)


def provider_view(company_id: int) -> Principal:
    """The provider's own read view: the data plane reads an offer's data as the provider
    would, narrowed further to the offer's selection. This is the only way a contract lets
    one company's data reach another."""
    return Principal(
        kind="system",
        name=f"provider:{company_id}",
        company_id=company_id,
        roles=frozenset({Role.company_member}),
        scopes=frozenset({Scope.registry_read}),
    )


def offer_uid(offer_id: int) -> str:
    return f"urn:sandan:offer:{offer_id}"


def _product_schema(selection: Selection) -> list[dict[str, str]]:
    if isinstance(selection, TelemetrySelection):
        return TELEMETRY_SCHEMA
    if isinstance(selection, FileSelection):
        return []  # the file's own columns, once it is uploaded
    return PRODUCT_SCHEMAS[selection.product][1]


def _check_selection(session: Session, company_id: int, selection: Selection) -> None:
    """Only the provider's own tags or lines may be offered."""
    if isinstance(selection, FileSelection):
        return
    view = provider_view(company_id)
    if isinstance(selection, TelemetrySelection):
        own = set(registry.readable_tag_ids(session, view, list(selection.tag_ids)))
        foreign = sorted(set(selection.tag_ids) - own)
        if foreign:
            raise ValidationFailed.one(
                "selection.tag_ids", f"tags {foreign} are not tags of company {company_id}"
            )
        return
    if selection.product in {"line_hourly"} and selection.line_id is None:
        raise ValidationFailed.one("selection.line_id", "this product is made per line")
    if selection.live and selection.line_id is None:
        raise ValidationFailed.one("selection.live", "only a line's product streams live")
    if selection.line_id is not None:
        try:
            registry.machines_with_tags(
                session, view, asset_id=selection.line_id, level="line", field="selection.line_id"
            )
        except NotFound:
            raise ValidationFailed.one(
                "selection.line_id", f"is not a line of company {company_id}"
            ) from None


def create_offer(session: Session, principal: Principal, data: OfferIn) -> Offer:
    """Publish an offer of the caller's company (operators publish for a named company). A
    file offer starts as a draft, seen by its owner only, until its file is uploaded."""
    company_id = data.company_id if principal.is_operator else principal.company_id
    if company_id is None:
        raise ValidationFailed.one("company_id", "name the company that offers the data")
    ensure_writable(principal, company_id, "offers")
    _check_selection(session, company_id, data.selection)
    provider = profile(session, company_id)
    selection = data.selection.model_dump()
    if not data.preview:
        selection["preview"] = False  # the provider keeps sample rows out of the catalogue
    offer = Offer(
        company_id=company_id,
        kind=data.selection.type,
        title=data.title,
        description=data.description,
        keywords=sorted({k.strip().lower() for k in data.keywords if k.strip()}),
        industry=provider.ksic,
        temporal_start=data.temporal_start,
        temporal_end=data.temporal_end,
        selection=selection,
        data_schema=_product_schema(data.selection),
        preview=[],
        access_policy=(data.access_policy or OPEN_TO_THE_COMPLEX).model_dump(mode="json"),
        contract_policy=data.contract_policy.model_dump(mode="json"),
        price_model=data.price_model,
        price_krw=data.price_krw,
        approval=data.approval,
        status="draft" if isinstance(data.selection, FileSelection) else "published",
    )
    session.add(offer)
    session.flush()
    return offer


def viewer_context(viewer: CompanyProfile, purpose: str | None = None) -> odrl.AccessContext:
    """The facts an access policy is evaluated on: who is looking, now."""
    now = utcnow()
    return odrl.AccessContext(
        action=odrl.Action.use,
        purpose=purpose,
        recipient=viewer.id,
        recipient_industry=viewer.ksic,
        recipient_zone=viewer.zone,
        at=now,
    )


def may_see(offer: Offer, principal: Principal, viewer: CompanyProfile | None) -> bool:
    """The owner and the complex's staff see every offer; another company sees a published
    offer only when its access policy lets it."""
    if principal.company_id == offer.company_id or principal.is_operator:
        return True
    if offer.status != "published" or viewer is None or not viewer.active:
        return False
    policy = odrl.Policy.model_validate(offer.access_policy)
    return odrl.evaluate(policy, viewer_context(viewer)).allowed


@dataclass(frozen=True)
class CatalogueFilter:
    q: str | None = None
    kind: str | None = None
    industry: str | None = None
    keyword: str | None = None
    company_id: int | None = None


def _filtered(f: CatalogueFilter) -> Select[Offer]:
    stmt = select(Offer)
    if f.q:
        like = f"%{f.q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Offer.title).like(like), func.lower(Offer.description).like(like))
        )
    if f.kind:
        stmt = stmt.where(Offer.kind == f.kind)
    if f.industry:
        stmt = stmt.where(Offer.industry.startswith(f.industry))
    if f.company_id is not None:
        stmt = stmt.where(Offer.company_id == f.company_id)
    return stmt.order_by(Offer.created_at.desc(), Offer.id.desc())


def visible_offers(session: Session, principal: Principal, f: CatalogueFilter) -> list[Offer]:
    """The offers the caller may see, filtered. Withdrawn offers only to their owner; the
    access policy of each other offer is evaluated for the caller's company."""
    stmt = _filtered(f)
    if not principal.is_operator:
        stmt = stmt.where(
            or_(Offer.status == "published", Offer.company_id == (principal.company_id or 0))
        )
    viewer = profile(session, principal.company_id) if principal.company_id is not None else None
    offers = [o for o in session.scalars(stmt) if may_see(o, principal, viewer)]
    if f.keyword:
        offers = [o for o in offers if f.keyword.lower() in o.keywords]
    return offers


def get_offer(session: Session, principal: Principal, offer_id: int) -> Offer:
    """One offer, if the caller may see it; an offer it may not see looks missing."""
    offer = session.get(Offer, offer_id)
    viewer = profile(session, principal.company_id) if principal.company_id is not None else None
    if offer is None or not may_see(offer, principal, viewer):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def withdraw_offer(session: Session, principal: Principal, offer_id: int) -> Offer:
    """Take an offer out of the catalogue; running agreements keep their terms."""
    offer = get_offer(session, principal, offer_id)
    ensure_writable(principal, offer.company_id, "offers")
    offer.status = "withdrawn"
    offer.updated_at = utcnow()
    session.flush()
    return offer


def providers(session: Session, offers: list[Offer]) -> dict[int, str]:
    """Company names of the offers' providers, for listing."""
    found = registry.company_profiles(session, [o.company_id for o in offers])
    return {cid: p.name for cid, p in found.items()}


def dcat_dataset(offer: Offer, provider: CompanyProfile, base_url: str) -> dict[str, Any]:
    """One offer as a DCAT dataset carrying its ODRL offer (Dataspace Protocol catalogue)."""
    policy = odrl.Policy.model_validate(offer.contract_policy)
    dataset: dict[str, Any] = {
        "@id": offer_uid(offer.id),
        "@type": "dcat:Dataset",
        "dct:title": offer.title,
        "dct:description": offer.description,
        "dcat:keyword": offer.keywords,
        "dct:publisher": participant_id(provider),
        "sandan:industry": offer.industry,
        "sandan:kind": offer.kind,
        "sandan:schema": offer.data_schema,
        "sandan:price": {"model": offer.price_model, "amountKRW": offer.price_krw},
        "odrl:hasPolicy": [
            odrl.to_odrl(policy, offer_uid(offer.id), participant_id(provider), None, "Offer")
        ],
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:format": "HttpData-PULL",
                "dcat:accessService": f"{base_url}/dsp",
            }
        ],
    }
    if offer.selection.get("live"):
        dataset["dcat:distribution"].append(
            {
                "@type": "dcat:Distribution",
                "dct:format": "SSE-PUSH",
                "dcat:accessService": f"{base_url}/dsp",
            }
        )
    if offer.temporal_start or offer.temporal_end:
        dataset["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": offer.temporal_start.isoformat() if offer.temporal_start else None,
            "dcat:endDate": offer.temporal_end.isoformat() if offer.temporal_end else None,
        }
    return dataset


DCAT_CONTEXT = {
    "@vocab": "https://w3id.org/dspace/v0.8/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "dspace": "https://w3id.org/dspace/v0.8/",
    "sandan": "https://sandan.example/ns/",
}


def dcat_catalog(
    session: Session, principal: Principal, f: CatalogueFilter, base_url: str
) -> dict[str, Any]:
    """The catalogue the caller may see, as a DCAT catalog in JSON-LD."""
    offers = visible_offers(session, principal, f)
    owners = registry.company_profiles(session, [o.company_id for o in offers])
    return {
        "@context": DCAT_CONTEXT,
        "@id": f"{base_url}/api/v1/sharing/catalog",
        "@type": "dcat:Catalog",
        "dct:title": "Sandan data catalogue",
        "dcat:dataset": [dcat_dataset(o, owners[o.company_id], base_url) for o in offers],
        "dcat:service": [
            {
                "@id": f"{base_url}/dsp",
                "@type": "dcat:DataService",
                "dcat:endpointURL": f"{base_url}/dsp",
            }
        ],
    }
