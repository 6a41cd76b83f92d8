"""Complexes and zones: shared reference data, readable by every registry reader and
changed by the complex operator only."""

from __future__ import annotations

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.registry import schemas
from sandan.registry.models import Complex, Zone
from sandan.registry.service._common import apply_changes


def _require_complex_admin(principal: Principal) -> None:
    if not principal.has(Scope.complex_admin):
        raise PermissionDenied("only the complex operator changes complexes and zones")


def complexes_readable(principal: Principal) -> Select[Complex]:
    """Complexes are public to every authenticated registry reader."""
    stmt = select(Complex)
    return stmt if principal.has(Scope.registry_read) else stmt.where(false())


def get_complex(session: Session, principal: Principal, complex_id: int) -> Complex:
    row = session.scalar(complexes_readable(principal).where(Complex.id == complex_id))
    if row is None:
        raise NotFound(f"complex {complex_id} not found")
    return row


def create_complex(session: Session, principal: Principal, data: schemas.ComplexIn) -> Complex:
    """Register a complex; a spoke must name an existing hub."""
    _require_complex_admin(principal)
    _check_hub(session, data.kind, data.hub_id)
    if session.scalar(select(Complex.id).where(Complex.code == data.code)) is not None:
        raise Conflict(f"complex code {data.code} exists", field="code")
    row = Complex(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def _check_hub(session: Session, kind: str, hub_id: int | None, own_id: int | None = None) -> None:
    """A spoke names an existing hub (not itself); a hub names none."""
    if kind == "hub" and hub_id is not None:
        raise ValidationFailed.one("hub_id", "a hub complex has no hub")
    if kind == "spoke":
        hub = None if hub_id is None or hub_id == own_id else session.get(Complex, hub_id)
        if hub is None or hub.kind != "hub":
            raise ValidationFailed.one("hub_id", "a spoke needs an existing hub complex")


def update_complex(
    session: Session, principal: Principal, complex_id: int, data: schemas.ComplexPatch
) -> Complex:
    _require_complex_admin(principal)
    row = get_complex(session, principal, complex_id)
    changes = data.model_dump(exclude_unset=True)
    _check_hub(session, changes.get("kind", row.kind), changes.get("hub_id", row.hub_id), row.id)
    apply_changes(row, changes)
    session.flush()
    raise_event(session, "registry.complex_updated", {"id": row.id, "fields": sorted(changes)})
    return row


def zones_readable(principal: Principal) -> Select[Zone]:
    stmt = select(Zone)
    return stmt if principal.has(Scope.registry_read) else stmt.where(false())


def get_zone(session: Session, principal: Principal, zone_id: int) -> Zone:
    row = session.scalar(zones_readable(principal).where(Zone.id == zone_id))
    if row is None:
        raise NotFound(f"zone {zone_id} not found")
    return row


def create_zone(session: Session, principal: Principal, data: schemas.ZoneIn) -> Zone:
    """Add a zone to a complex."""
    _require_complex_admin(principal)
    if session.get(Complex, data.complex_id) is None:
        raise ValidationFailed.one("complex_id", "no such complex")
    exists = select(Zone.id).where(Zone.complex_id == data.complex_id, Zone.code == data.code)
    if session.scalar(exists) is not None:
        raise Conflict(f"zone {data.code} exists in this complex", field="code")
    row = Zone(**data.model_dump())
    session.add(row)
    session.flush()
    return row


def update_zone(
    session: Session, principal: Principal, zone_id: int, data: schemas.ZonePatch
) -> Zone:
    _require_complex_admin(principal)
    row = get_zone(session, principal, zone_id)
    changes = data.model_dump(exclude_unset=True)
    apply_changes(row, changes)
    session.flush()
    raise_event(session, "registry.zone_updated", {"id": row.id, "fields": sorted(changes)})
    return row
