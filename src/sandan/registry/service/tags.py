"""For other domains: the device a reading batch comes from, the tags an ingest worker
looks up, and which tags a principal may read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.tenancy import readable
from sandan.registry import schemas
from sandan.registry.models import Asset, Device, Tag
from sandan.registry.service.owned import get_owned, owned_readable


def ingest_tags(
    session: Session, principal: Principal, device_id: int | None
) -> tuple[schemas.DeviceOut, list[schemas.TagOut]]:
    """The sending device and its tags. A device key speaks for its own device only; a user
    with telemetry:write may send (backfill) for a device of a company they write."""
    if not principal.has(Scope.telemetry_write):
        raise PermissionDenied("sending readings needs telemetry:write")
    if principal.kind == "device":
        if device_id is not None and device_id != principal.device_id:
            raise PermissionDenied("a device key sends readings for its own device only")
        device_id = principal.device_id
    if device_id is None:
        raise ValidationFailed.one("device_id", "required when a user sends readings")
    device = session.get(Device, device_id)
    if device is None or not principal.writes_company(device.company_id):
        raise NotFound(f"device {device_id} not found")
    if not device.enabled:
        raise PermissionDenied(f"device {device_id} is disabled")
    tags = session.scalars(select(Tag).where(Tag.device_id == device.id).order_by(Tag.id)).all()
    return schemas.DeviceOut.model_validate(device), [
        schemas.TagOut.model_validate(t) for t in tags
    ]


def readable_tag_ids(session: Session, principal: Principal, tag_ids: list[int]) -> list[int]:
    """The subset of tag ids whose readings the principal may see."""
    if not tag_ids:
        return []
    stmt = readable(select(Tag.id), principal, Tag.company_id, Resource.assets)
    return list(session.scalars(stmt.where(Tag.id.in_(tag_ids)).order_by(Tag.id)))


def ingest_tag_rows(
    session: Session,
) -> list[tuple[int, int, int, str, float | None, float | None, str]]:
    """Every tag of every enabled device, as plain rows for an ingest worker's lookup table:
    (tag_id, device_id, company_id, name, range_min, range_max, data_type)."""
    rows = session.execute(
        select(
            Tag.id,
            Tag.device_id,
            Tag.company_id,
            Tag.name,
            Tag.range_min,
            Tag.range_max,
            Tag.data_type,
        )
        .join(Device, Device.id == Tag.device_id)
        .where(Device.enabled)
        .order_by(Tag.id)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def enabled_devices(session: Session) -> dict[int, int]:
    """device_id -> company_id of every enabled device (ingest workers check topics with it)."""
    return {
        d: c for d, c in session.execute(select(Device.id, Device.company_id).where(Device.enabled))
    }


def protocol_tag_rows(
    session: Session, protocol: str
) -> list[tuple[int, int, str, int | None, str | None, str | None, str | None]]:
    """Every enabled device of a protocol (`sparkplug`, `opcua`) with its tags, for the ingest
    worker that maps external ids to devices: (device_id, company_id, external_id, tag_id,
    tag name, source_address, data_type); a device without tags has one row of None."""
    rows = session.execute(
        select(
            Device.id,
            Device.company_id,
            Device.external_id,
            Tag.id,
            Tag.name,
            Tag.source_address,
            Tag.data_type,
        )
        .outerjoin(Tag, Tag.device_id == Device.id)
        .where(Device.enabled, Device.protocol == protocol)
        .order_by(Device.id, Tag.id)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def machine_tags(session: Session, principal: Principal, machine_id: int) -> dict[str, int]:
    """name -> tag id of the tags measuring a machine the principal may read."""
    machine = get_owned(session, principal, Asset, machine_id)
    if machine.level != "machine":
        raise ValidationFailed.one("machine_id", "is not a machine")
    stmt = owned_readable(Tag, principal).where(Tag.machine_id == machine.id).order_by(Tag.id)
    return {tag.name: tag.id for tag in session.scalars(stmt)}


def state_tags(session: Session, principal: Principal) -> list[tuple[int, int]]:
    """(tag_id, company_id) of every machine `state` tag the principal may read."""
    stmt = readable(select(Tag.id, Tag.company_id), principal, Tag.company_id, Resource.assets)
    return [(t, c) for t, c in session.execute(stmt.where(Tag.name == "state"))]


def ingest_tag_units(session: Session) -> dict[int, str]:
    """tag_id -> unit of every tag of every enabled device: the canonical units an ingest
    worker converts readings to (apart from `ingest_tag_rows`, whose row shape is unpacked)."""
    rows = session.execute(
        select(Tag.id, Tag.unit).join(Device, Device.id == Tag.device_id).where(Device.enabled)
    )
    return {tag_id: unit for tag_id, unit in rows}


def readable_tag_profiles(
    session: Session, principal: Principal, tag_ids: list[int]
) -> list[tuple[int, int, str, int]]:
    """(tag_id, device_id, name, sampling_ms) of the tags whose readings the principal may see,
    for the gap and data-quality reports."""
    if not tag_ids:
        return []
    stmt = readable(
        select(Tag.id, Tag.device_id, Tag.name, Tag.sampling_ms),
        principal,
        Tag.company_id,
        Resource.assets,
    )
    rows = session.execute(stmt.where(Tag.id.in_(tag_ids)).order_by(Tag.id))
    return [(t, d, n, s) for t, d, n, s in rows]


def tags_named(
    session: Session, principal: Principal, names: list[str]
) -> list[tuple[int, int, str]]:
    """(tag_id, company_id, name) of the readable tags with one of these names, by id."""
    if not names:
        return []
    stmt = readable(
        select(Tag.id, Tag.company_id, Tag.name), principal, Tag.company_id, Resource.assets
    )
    rows = session.execute(stmt.where(Tag.name.in_(sorted(set(names)))).order_by(Tag.id))
    return [(t, c, n) for t, c, n in rows]
