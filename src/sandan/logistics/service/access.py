"""Who may do what in the shared warehouse, and the write lock that serialises stock writes.

Tenants (company admins, `warehouse:order`) act for their own company; the warehouse
operator (`warehouse:operate`) acts for every tenant. Reads go through `readable`, so a
tenant's query never returns another owner's rows.
"""

from __future__ import annotations

from typing import Any, TypeVar, TypeVarTuple, cast

from sqlalchemy import Select, Table, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from sandan.core.errors import PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.core.tenancy import found, readable

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def owned(
    stmt: Select[*Ts], principal: Principal, column: InstrumentedAttribute[Any]
) -> Select[*Ts]:
    """Filter a select to the owners the principal may read."""
    return readable(stmt, principal, column, Resource.warehouse)


def is_operator(principal: Principal) -> bool:
    return principal.has(Scope.warehouse_operate)


def ensure_operator(principal: Principal, what: str) -> None:
    """Floor work (receiving, putaway, picking, counts, layout) is the operator's."""
    if not is_operator(principal):
        raise PermissionDenied(f"only the warehouse operator may {what}")


def ensure_owner(principal: Principal, owner_id: int) -> None:
    """A tenant writes only its own documents; the operator writes anyone's."""
    if is_operator(principal):
        return
    if principal.has(Scope.warehouse_order) and principal.company_id == owner_id:
        return
    raise PermissionDenied(f"you may not act for company {owner_id} in the warehouse")


def owner_for(principal: Principal, requested: int | None) -> int:
    """The owner a new document belongs to: the tenant's own, or the one the operator names."""
    if requested is None:
        if principal.company_id is None:
            raise ValidationFailed.one("owner_company_id", "name the tenant this belongs to")
        requested = principal.company_id
    ensure_owner(principal, requested)
    return requested


def get_owned(session: Session, principal: Principal, model: type[T], row_id: int) -> T:
    """One row the principal may read, else NotFound (hidden and missing look the same)."""
    table: Any = model
    stmt = owned(select(table).where(table.id == row_id), principal, table.owner_company_id)
    row: T | None = session.scalar(stmt)
    return found(row, table.__tablename__.removeprefix("wms_").rstrip("s"))


def write_lock(session: Session) -> None:
    """Serialise stock writes on SQLite: an empty UPDATE opens the transaction and takes the
    database's write lock now (BEGIN IMMEDIATE in effect), so what this unit reads next is
    what it writes against. PostgreSQL locks rows instead (`SELECT ... FOR UPDATE`)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE wms_quants SET on_hand = on_hand WHERE 0 = 1"))


def table(model: type[Any]) -> Table:
    """The Core table of a model: the hot paths run prebuilt Core statements on it."""
    return cast(Table, model.__table__)
