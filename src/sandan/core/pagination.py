"""Limit/offset pagination with a total, shared by every list route."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

Item = TypeVar("Item")


class PageParams(BaseModel):
    """Query parameters of a list route."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class Page(BaseModel, Generic[Item]):
    """One page of results and the total that matched."""

    items: list[Item]
    total: int
    limit: int
    offset: int


def paginate(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run a select for one page and count all matches in one extra query."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(params.limit).offset(params.offset)).all()
    return list(rows), int(total or 0)
