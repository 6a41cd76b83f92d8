"""Rows owned by a company (contacts, sites, assets, devices, tags): the one scoped read,
change and delete that every kind goes through."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import NotFound
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import ensure_writable, readable
from sandan.registry.geo import centroid
from sandan.registry.models import Asset, Contact, Device, Site, Tag
from sandan.registry.service._common import apply_changes

M = TypeVar("M", Site, Asset, Device, Tag, Contact)

_RESOURCE: dict[type[Any], Resource] = {
    Site: Resource.directory,
    Contact: Resource.directory,
    Asset: Resource.assets,
    Device: Resource.assets,
    Tag: Resource.assets,
}


def owned_readable(model: type[M], principal: Principal) -> Select[M]:
    """Company-owned rows of one kind the principal may read."""
    return readable(select(model), principal, model.company_id, _RESOURCE[model])


def get_owned(session: Session, principal: Principal, model: type[M], row_id: int) -> M:
    """One company-owned row; missing and hidden rows both answer 404."""
    row = session.scalar(owned_readable(model, principal).where(model.id == row_id))
    if row is None:
        raise NotFound(f"{model.__tablename__[:-1]} {row_id} not found")
    return row


def update_owned(
    session: Session, principal: Principal, model: type[M], row_id: int, changes: dict[str, Any]
) -> M:
    """Change a company-owned row the principal may write; announces the change."""
    row = get_owned(session, principal, model, row_id)
    ensure_writable(principal, row.company_id, model.__tablename__)
    apply_changes(row, changes)
    moved = "footprint" in changes and not ({"lat", "lon"} & changes.keys())
    if isinstance(row, Site) and moved and row.footprint is not None:
        row.lat, row.lon = centroid(row.footprint)  # the marker follows the footprint
    session.flush()
    raise_event(
        session,
        f"registry.{model.__tablename__[:-1]}_updated",
        {"id": row.id, "company_id": row.company_id, "fields": sorted(changes)},
    )
    return row


def _subtree(session: Session, root: Asset) -> list[Asset]:
    """An asset and everything under it, parents before children."""
    children: dict[int | None, list[Asset]] = {}
    for asset in session.scalars(select(Asset).where(Asset.site_id == root.site_id)):
        children.setdefault(asset.parent_id, []).append(asset)
    ordered, frontier = [root], [root]
    while frontier:
        frontier = [c for parent in frontier for c in children.get(parent.id, [])]
        ordered.extend(frontier)
    return ordered


def _delete_device_parts(session: Session, device: Device) -> None:
    for tag in session.scalars(select(Tag).where(Tag.device_id == device.id)):
        session.delete(tag)
    identity.delete_device_credentials(session, device.id)
    session.flush()


def _delete_assets_leaf_first(session: Session, assets: list[Asset]) -> None:
    for asset in reversed(assets):  # children were listed after their parents
        session.delete(asset)
        session.flush()


def _delete_dependents(session: Session, row: Any) -> None:
    """Remove what hangs under a row through the ORM, so each removal is audited (the
    database's own ON DELETE CASCADE would remove them unseen)."""
    if isinstance(row, Site):
        for device in session.scalars(select(Device).where(Device.site_id == row.id)).all():
            _delete_device_parts(session, device)
            session.delete(device)
        session.flush()
        roots = session.scalars(
            select(Asset).where(Asset.site_id == row.id, Asset.parent_id.is_(None))
        ).all()
        for root in roots:
            _delete_assets_leaf_first(session, _subtree(session, root))
    elif isinstance(row, Asset):
        subtree = _subtree(session, row)
        ids = [a.id for a in subtree]
        for device in session.scalars(select(Device).where(Device.machine_id.in_(ids))):
            device.machine_id = None  # the device stays on the site, detached
        for tag in session.scalars(select(Tag).where(Tag.machine_id.in_(ids))):
            tag.machine_id = None
        session.flush()
        _delete_assets_leaf_first(session, subtree[1:])
    elif isinstance(row, Device):
        _delete_device_parts(session, row)


def delete_owned(session: Session, principal: Principal, model: type[M], row_id: int) -> None:
    """Delete a company-owned row and, audited one by one, everything under it."""
    row = get_owned(session, principal, model, row_id)
    ensure_writable(principal, row.company_id, model.__tablename__)
    _delete_dependents(session, row)
    session.delete(row)
    session.flush()
    raise_event(
        session,
        f"registry.{model.__tablename__[:-1]}_deleted",
        {"id": row_id, "company_id": row.company_id},
    )
