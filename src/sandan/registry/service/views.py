"""Read models of the registry: a company's asset tree, machines with their lines and tags
(for analytics), and the complex at a glance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import readable
from sandan.registry import schemas
from sandan.registry.models import Asset, Company, Complex, Site, Tag, Zone
from sandan.registry.service.companies import companies_readable, get_company
from sandan.registry.service.complexes import complexes_readable, zones_readable
from sandan.registry.service.owned import get_owned, owned_readable
from sandan.registry.validators import KSIC_DIVISIONS, ksic_division


def asset_tree(session: Session, principal: Principal, company_id: int) -> list[schemas.AssetNode]:
    """A company's sites with their ISA-95 trees, machines annotated with device and tag counts."""
    company = get_company(session, principal, company_id)
    sites = session.scalars(
        owned_readable(Site, principal).where(Site.company_id == company.id).order_by(Site.id)
    ).all()
    assets = session.scalars(
        owned_readable(Asset, principal).where(Asset.company_id == company.id).order_by(Asset.code)
    ).all()
    counts = (
        readable(select(Tag.machine_id, func.count()), principal, Tag.company_id, Resource.assets)
        .where(Tag.company_id == company.id)
        .group_by(Tag.machine_id)
    )
    tags_per_machine: dict[int | None, int] = {m: n for m, n in session.execute(counts)}
    nodes: dict[int, schemas.AssetNode] = {}
    for asset in assets:
        label = f"{asset.code} · {asset.name}"
        if asset.level == "machine":
            label += f" ({tags_per_machine.get(asset.id, 0)} tags)"
        nodes[asset.id] = schemas.AssetNode(id=f"asset-{asset.id}", label=label, level=asset.level)
    roots: dict[int, schemas.AssetNode] = {
        site.id: schemas.AssetNode(id=f"site-{site.id}", label=site.name, level="site")
        for site in sites
    }
    for asset in assets:
        parent = nodes.get(asset.parent_id) if asset.parent_id else roots.get(asset.site_id)
        if parent is not None:
            parent.children.append(nodes[asset.id])
    return list(roots.values())


@dataclass(frozen=True)
class MachineTags:
    """A machine, the line it stands on (the nearest line above it) and its tags by name."""

    id: int
    company_id: int
    code: str
    name: str
    line_id: int | None
    line_label: str
    tags: dict[str, int]

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}"


def machines_with_tags(
    session: Session,
    principal: Principal,
    *,
    company_id: int | None = None,
    asset_id: int | None = None,
    level: str | None = None,
    field: str = "asset_id",
) -> list[MachineTags]:
    """The readable machines of a company, or under an asset (a line, an area or one machine),
    with their lines and tag ids, in two queries whatever their number (analytics reads a
    whole company at once). A hidden or missing company or asset answers 404; an asset not
    of `level` (when given) is refused naming `field`."""
    root = get_owned(session, principal, Asset, asset_id) if asset_id is not None else None
    if root is not None and level is not None and root.level != level:
        raise ValidationFailed.one(field, f"is not a {level}")
    if root is not None:
        owner = root.company_id
    else:
        owner = get_company(session, principal, company_id or 0).id
    assets = session.scalars(
        owned_readable(Asset, principal).where(Asset.company_id == owner).order_by(Asset.code)
    ).all()
    by_id = {a.id: a for a in assets}

    def chain(asset: Asset) -> list[Asset]:
        found = [asset]
        while found[-1].parent_id is not None and found[-1].parent_id in by_id:
            found.append(by_id[found[-1].parent_id])
        return found

    machines = [
        (m, chain(m))
        for m in assets
        if m.level == "machine" and (root is None or any(a.id == root.id for a in chain(m)))
    ]
    tags = machine_tag_ids(session, principal, [m.id for m, _ in machines])
    result = []
    for machine, ancestors in machines:
        line = next((a for a in ancestors if a.level == "line"), None)
        result.append(
            MachineTags(
                id=machine.id,
                company_id=machine.company_id,
                code=machine.code,
                name=machine.name,
                line_id=line.id if line else None,
                line_label=f"{line.code} · {line.name}" if line else "",
                tags=tags.get(machine.id, {}),
            )
        )
    return result


def machine_tag_ids(
    session: Session, principal: Principal, machine_ids: list[int]
) -> dict[int, dict[str, int]]:
    """machine id -> {tag name: tag id} of the readable tags on these machines, in one query
    (the first tag of a name, by id)."""
    tags: dict[int, dict[str, int]] = {}
    if not machine_ids:
        return tags
    stmt = readable(
        select(Tag.machine_id, Tag.name, Tag.id), principal, Tag.company_id, Resource.assets
    ).where(Tag.machine_id.in_(machine_ids))
    for machine_id, name, tag_id in session.execute(stmt.order_by(Tag.id)):
        if machine_id is not None:
            tags.setdefault(machine_id, {}).setdefault(name, tag_id)
    return tags


def overview(
    session: Session, principal: Principal, complex_id: int | None = None
) -> schemas.Overview:
    """The complex at a glance: counts per zone and industry, and the visible footprints."""
    cx = session.scalar(
        complexes_readable(principal)
        .where(Complex.id == complex_id if complex_id else Complex.kind == "hub")
        .order_by(Complex.id)
    )
    if cx is None:
        return schemas.Overview(
            complex=None, zones=[], companies_total=0, by_zone=[], by_industry=[], footprints=[]
        )
    zones = session.scalars(
        zones_readable(principal).where(Zone.complex_id == cx.id).order_by(Zone.code)
    ).all()
    # Counts are complex-wide aggregates; rows themselves stay filtered below.
    counted = session.execute(
        select(Company.zone_id, Company.ksic).where(Company.complex_id == cx.id, Company.active)
    ).all()
    per_zone = Counter(z for z, _ in counted)
    per_division = Counter(ksic_division(k) for _, k in counted)
    footprints = [
        {
            "id": c.id,
            "name": c.name,
            "name_en": c.name_en,
            "zone_id": c.zone_id,
            "ksic": c.ksic,
            "footprint": c.footprint,
        }
        for c in session.scalars(
            companies_readable(principal).where(
                Company.complex_id == cx.id, Company.active, Company.footprint.is_not(None)
            )
        )
    ]
    return schemas.Overview(
        complex=schemas.ComplexOut.model_validate(cx),
        zones=[schemas.ZoneOut.model_validate(z) for z in zones],
        companies_total=len(counted),
        by_zone=[
            schemas.CountRow(key=z.code, label=z.name, count=per_zone.get(z.id, 0)) for z in zones
        ],
        by_industry=[
            schemas.CountRow(key=d, label=KSIC_DIVISIONS.get(d, d), count=n)
            for d, n in per_division.most_common()
        ],
        footprints=footprints,
    )
