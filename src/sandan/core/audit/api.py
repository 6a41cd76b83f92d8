"""Routes to read and verify the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from sandan.core.audit import service
from sandan.core.audit.models import AuditEntry
from sandan.core.http import AuditRead, DbSession
from sandan.core.pagination import Page, PageParams, paginate
from sandan.core.types import IdQuery

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_company_id: int | None
    company_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    problems: list[dict[str, Any]]


@router.get("", response_model=Page[AuditOut])
def list_entries(
    principal: AuditRead,
    session: DbSession,
    page: Annotated[PageParams, Depends()],
    entity: str | None = None,
    company_id: IdQuery = None,
    actor: str | None = None,
) -> Page[AuditOut]:
    """Audit entries, newest first (auditors and operators)."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if company_id is not None:
        stmt = stmt.where(AuditEntry.company_id == company_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    rows, total = paginate(session, stmt, page)
    return Page[AuditOut](
        items=[AuditOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/verify", response_model=VerifyOut)
def verify(principal: AuditRead, session: DbSession) -> VerifyOut:
    """Recompute the hash chain and report any edited or deleted entry."""
    report = service.verify(session)
    return VerifyOut(
        ok=report.ok,
        checked=report.checked,
        problems=[{"seq": s, "reason": r} for s, r in report.problems],
    )
