"""Permission inside the query: every read of company-owned rows goes through `readable`."""

from __future__ import annotations

from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Select, false
from sqlalchemy.orm import QueryableAttribute

from sandan.core.errors import NotFound, PermissionDenied
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def readable(
    stmt: Select[*Ts],
    principal: Principal,
    company_column: QueryableAttribute[Any],
    resource: Resource,
) -> Select[*Ts]:
    """Filter a select to the companies the principal may read (own, duty-wide or granted)."""
    if not principal.has(Scope.registry_read):
        return stmt.where(false())
    if principal.reads_all(resource):
        return stmt
    ids = principal.readable_company_ids(resource)
    if not ids:
        return stmt.where(false())
    return stmt.where(company_column.in_(sorted(ids)))


def ensure_writable(principal: Principal, company_id: int | None, what: str) -> None:
    """Raise unless the principal may write rows of this company."""
    if not principal.has(Scope.registry_write) or not principal.writes_company(company_id):
        raise PermissionDenied(f"you may not change {what} of company {company_id}")


def found(row: T | None, what: str) -> T:
    """The row, or NotFound; hidden and missing rows look the same to the caller."""
    if row is None:
        raise NotFound(f"{what} not found")
    return row
