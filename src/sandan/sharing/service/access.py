"""Governed access: a consumer reaches data only through an agreement, with a short-lived
token scoped to it. Every access is evaluated against the agreed policy at the time of use,
under a row lock on the agreement so that concurrent pulls count exactly; every access,
allowed or denied, is metered (`Usage`, which is also the provider's audit trail)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.registry import service as registry
from sandan.sharing import policy as odrl
from sandan.sharing.models import AccessToken, Agreement, Offer, Usage
from sandan.sharing.service import data, files
from sandan.sharing.service.offers import provider_view
from sandan.sharing.service.parties import profile
from sandan.telemetry.store import TelemetryStore

TOKEN_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agreements_readable(principal: Principal) -> Select[Agreement]:
    """Agreements the caller is a party of; the complex's staff see all."""
    stmt = select(Agreement)
    if principal.is_operator:
        return stmt
    own = principal.company_id or 0
    return stmt.where(
        (Agreement.provider_company_id == own) | (Agreement.consumer_company_id == own)
    )


def get_agreement(session: Session, principal: Principal, agreement_id: int) -> Agreement:
    stmt = agreements_readable(principal).where(Agreement.id == agreement_id)
    return found(session.scalar(stmt), f"agreement {agreement_id}")


def list_agreements(
    session: Session, principal: Principal, role: str | None = None
) -> list[Agreement]:
    """The caller's agreements, as provider, consumer or both, newest first."""
    stmt = agreements_readable(principal)
    own = principal.company_id or 0
    if role == "provider":
        stmt = stmt.where(Agreement.provider_company_id == own)
    elif role == "consumer":
        stmt = stmt.where(Agreement.consumer_company_id == own)
    return list(session.scalars(stmt.order_by(Agreement.signed_at.desc(), Agreement.id.desc())))


def inactive_reason(agreement: Agreement, now: datetime) -> str | None:
    """Why the agreement allows nothing now, or None while it is in force."""
    if agreement.status == "terminated":
        return f"the agreement was terminated: {agreement.termination_reason or 'no reason'}"
    if agreement.status != "active":
        return "the agreement is not finalized yet"
    if agreement.expires_at is not None and now >= as_utc(agreement.expires_at):
        return f"the agreement expired at {as_utc(agreement.expires_at).isoformat()}"
    return None


@dataclass(frozen=True)
class Issued:
    agreement_id: int
    access_token: str
    refresh_token: str
    expires_in: int
    live: bool  # the agreement's offer also streams


def _live_offer(session: Session, agreement: Agreement) -> Offer | None:
    offer = session.get(Offer, agreement.offer_id)
    return offer if offer is not None and offer.selection.get("live") else None


def issue(session: Session, agreement: Agreement) -> Issued:
    """A new token pair for the agreement (its caller checked who may have it)."""
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    ends = [now + REFRESH_TTL]
    if agreement.expires_at is not None:
        ends.append(as_utc(agreement.expires_at))
    session.add(
        AccessToken(
            agreement_id=agreement.id,
            token_hash=_hash(access),
            refresh_hash=_hash(refresh),
            expires_at=now + TOKEN_TTL,
            refresh_expires_at=min(ends),
        )
    )
    session.flush()
    live = _live_offer(session, agreement) is not None
    return Issued(agreement.id, access, refresh, int(TOKEN_TTL.total_seconds()), live)


def issue_token(session: Session, principal: Principal, agreement_id: int) -> Issued:
    """The consumer's Endpoint Data Reference token for an agreement in force."""
    agreement = get_agreement(session, principal, agreement_id)
    if principal.company_id is None or principal.company_id != agreement.consumer_company_id:
        raise PermissionDenied("only the consumer of an agreement may take a token for it")
    reason = inactive_reason(agreement, utcnow())
    if reason:
        raise PermissionDenied(reason)
    return issue(session, agreement)


def refresh_token(session: Session, refresh: str) -> Issued:
    """A new token pair for a valid refresh token; the old pair stops working."""
    row = session.scalar(select(AccessToken).where(AccessToken.refresh_hash == _hash(refresh)))
    now = utcnow()
    if row is None or row.revoked or as_utc(row.refresh_expires_at) <= now:
        raise NotAuthenticated("the refresh token is unknown, revoked or expired")
    agreement = session.get(Agreement, row.agreement_id)
    if agreement is None:
        raise NotAuthenticated("the refresh token's agreement is gone")
    inactive = inactive_reason(agreement, now)
    if inactive:
        raise PermissionDenied(inactive)
    row.revoked = True
    return issue(session, agreement)


def agreement_for_token(session: Session, token: str) -> Agreement:
    """The agreement a bearer token opens, or NotAuthenticated."""
    row = session.scalar(select(AccessToken).where(AccessToken.token_hash == _hash(token)))
    if row is None or row.revoked or as_utc(row.expires_at) <= utcnow():
        raise NotAuthenticated("the access token is unknown, revoked or expired; refresh it")
    agreement = session.get(Agreement, row.agreement_id)
    if agreement is None:
        raise NotAuthenticated("the access token's agreement is gone")
    return agreement


def revoke_tokens(session: Session, agreement_id: int) -> None:
    for row in session.scalars(
        select(AccessToken).where(AccessToken.agreement_id == agreement_id, ~AccessToken.revoked)
    ):
        row.revoked = True


def terminate_agreement(
    session: Session, principal: Principal, agreement_id: int, reason: str
) -> Agreement:
    """Either party (or the complex operator) ends an agreement: its tokens stop at once and
    its running streams within seconds."""
    agreement = get_agreement(session, principal, agreement_id)
    parties = {agreement.provider_company_id, agreement.consumer_company_id}
    if not principal.is_operator and principal.company_id not in parties:
        raise PermissionDenied("only a party of the agreement may terminate it")
    if agreement.status != "terminated":
        agreement.status = "terminated"
        agreement.terminated_at = utcnow()
        agreement.termination_reason = reason or f"terminated by {principal.actor}"
        revoke_tokens(session, agreement.id)
        session.flush()
    return agreement


def _locked(session: Session, agreement_id: int) -> Agreement:
    """The agreement row, locked until the request commits (PostgreSQL: SELECT … FOR UPDATE;
    SQLite serialises writers), so that counts and volumes add up under concurrent pulls."""
    row = session.scalar(select(Agreement).where(Agreement.id == agreement_id).with_for_update())
    if row is None:
        raise NotFound(f"agreement {agreement_id} not found")
    return row


@dataclass(frozen=True)
class Outcome:
    """A pull's result: rows when allowed, the readable reasons when not."""

    allowed: bool
    rows: list[dict[str, Any]]
    reasons: list[dict[str, str]]
    duties: list[dict[str, Any]]
    truncated: bool = False
    payload: bytes | None = None  # a file offer's CSV or Parquet download
    next_offset: int | None = None  # a file offer has more rows from here

    @property
    def message(self) -> str:
        return "; ".join(r["message"] for r in self.reasons) or "denied"


def context(
    session: Session,
    agreement: Agreement,
    *,
    at: datetime,
    purpose: str | None,
    count: int | None,
    rows: int | None,
    nbytes: int | None,
    resolution: int | None,
    fields: frozenset[str] | None,
) -> odrl.AccessContext:
    """The facts of one access, for the agreed policy to be evaluated on."""
    consumer = (
        profile(session, agreement.consumer_company_id)
        if agreement.consumer_company_id is not None
        else None
    )
    return odrl.AccessContext(
        at=at,
        purpose=purpose,
        recipient=consumer.id if consumer else None,
        recipient_industry=consumer.ksic if consumer else None,
        recipient_zone=consumer.zone if consumer else None,
        agreed_at=as_utc(agreement.signed_at),
        count=count,
        rows=rows,
        bytes=nbytes,
        resolution=resolution,
        fields=fields,
    )


def _reasons(decision: odrl.Decision) -> list[dict[str, str]]:
    return [
        {"code": r.code.value, "message": r.message, "message_ko": r.message_ko}
        for r in decision.reasons
    ]


def meter(
    session: Session,
    agreement: Agreement,
    kind: str,
    actor: str,
    *,
    allowed: bool,
    reasons: list[dict[str, str]] | None = None,
    rows: int = 0,
    nbytes: int = 0,
) -> None:
    """Count one access on the agreement and keep it in the usage log (and the audit log)."""
    if allowed:
        agreement.pulls += 1 if kind != "stream" else 0
        agreement.rows += rows
        agreement.bytes += nbytes
    session.add(
        Usage(
            agreement_id=agreement.id,
            provider_company_id=agreement.provider_company_id,
            consumer_company_id=agreement.consumer_company_id,
            kind=kind,
            allowed=allowed,
            reasons=reasons or [],
            rows=rows,
            bytes=nbytes,
            actor=actor,
        )
    )
    session.flush()


def pull(
    session: Session,
    store: TelemetryStore,
    agreement_id: int,
    actor: str,
    req: data.Request,
    purpose: str | None,
    plant_tz: str,
    *,
    fmt: str = "json",
    files_dir: Path | None = None,
) -> Outcome:
    """One historical pull under an agreement. A denial is metered and returned, not raised,
    so that the caller's edge commits it before answering 403. A file offer is read from
    `files_dir` and may be taken as `fmt` csv or parquet (metered in the bytes sent)."""
    agreement = _locked(session, agreement_id)
    now = utcnow()
    inactive = inactive_reason(agreement, now)
    if inactive:
        reasons = [
            {"code": "expired", "message": inactive, "message_ko": "계약이 유효하지 않습니다"}
        ]
        meter(session, agreement, "pull", actor, allowed=False, reasons=reasons)
        return Outcome(False, [], reasons, [])
    policy = odrl.Policy.model_validate(agreement.policy)
    offer = session.get(Offer, agreement.offer_id)
    if offer is None:
        raise NotFound("the offer of this agreement is gone")
    if fmt == "parquet" and offer.kind != "file":
        raise ValidationFailed.one("format", "parquet is for file offers; use json or csv")
    resolution = data.resolution_of(offer, req.resolution)
    fields = req.fields if req.fields is not None else frozenset(data.field_names(offer))

    facts = context(
        session,
        agreement,
        at=now,
        purpose=purpose,
        count=agreement.pulls + 1,
        rows=agreement.rows,
        nbytes=agreement.bytes,
        resolution=resolution,
        fields=fields,
    )
    first = odrl.evaluate(policy, facts)
    if not first.allowed:
        reasons = _reasons(first)
        meter(session, agreement, "pull", actor, allowed=False, reasons=reasons)
        return Outcome(False, [], reasons, [])
    room = odrl.remaining(policy, facts)
    if room.rows == 0 or room.bytes == 0:
        spent = "rows" if room.rows == 0 else "bytes"
        reasons = [
            {
                "code": spent,
                "message": f"the agreement's {spent} are used up",
                "message_ko": "계약의 데이터 한도를 모두 사용했습니다",
            }
        ]
        meter(session, agreement, "pull", actor, allowed=False, reasons=reasons)
        return Outcome(False, [], reasons, [])
    duties = [d.model_dump(mode="json", exclude_none=True) for d in first.duties]
    if offer.kind == "file":
        got = files.deliver(session, files_dir or Path("."), offer, req, room.rows, fmt)
        meter(session, agreement, "file", actor, allowed=True, rows=got.count, nbytes=got.nbytes)
        return Outcome(True, got.rows, [], duties, got.truncated, got.payload, got.next_offset)
    asked = replace(req, resolution=resolution)
    rows = data.fetch(session, store, offer, asked, plant_tz)
    truncated = room.rows is not None and len(rows) > room.rows
    if truncated:
        rows = rows[: room.rows]
    nbytes = len(orjson.dumps(rows))
    meter(session, agreement, "pull", actor, allowed=True, rows=len(rows), nbytes=nbytes)
    return Outcome(True, rows, [], duties, truncated)


def stream_check(
    session: Session, agreement_id: int, actor: str, rows: int, nbytes: int, purpose: str | None
) -> str | None:
    """A live stream's periodic check: meter what it sent since the last check, then say why
    it must stop (terminated, expired, a limit reached, policy no longer allowing), or None."""
    agreement = _locked(session, agreement_id)
    now = utcnow()
    if rows or nbytes:
        meter(session, agreement, "stream", actor, allowed=True, rows=rows, nbytes=nbytes)
    inactive = inactive_reason(agreement, now)
    if inactive:
        return inactive
    offer = session.get(Offer, agreement.offer_id)
    resolution = 0 if offer is None else data.resolution_of(offer, None)
    decision = odrl.evaluate(
        odrl.Policy.model_validate(agreement.policy),
        context(
            session,
            agreement,
            at=now,
            purpose=purpose,
            count=agreement.pulls,
            rows=agreement.rows,
            nbytes=agreement.bytes,
            resolution=resolution,
            fields=None,
        ),
    )
    if not decision.allowed:
        return "; ".join(r.message for r in decision.reasons)
    return None


def stream_tags(session: Session, agreement: Agreement) -> list[int]:
    """The tags a live subscription may carry: a live telemetry offer's, or the machine tags
    of a live line product; read as the provider sees them."""
    offer = _live_offer(session, agreement)
    if offer is None:
        if getattr(session.get(Offer, agreement.offer_id), "kind", None) == "file":
            raise Conflict("a file offer has no live stream; pull it from the data endpoint")
        raise PermissionDenied("this agreement's offer has no live stream")
    view = provider_view(offer.company_id)
    if offer.kind == "telemetry":
        return registry.readable_tag_ids(
            session, view, [int(t) for t in offer.selection["tag_ids"]]
        )
    machines = registry.machines_with_tags(
        session, view, asset_id=int(offer.selection["line_id"]), level="line"
    )
    return sorted(t for m in machines for t in m.tags.values())


def usage(
    session: Session, principal: Principal, company_id: int, *, limit: int, offset: int
) -> tuple[list[Usage], int]:
    """Who used a provider's data, when and under which agreement; or what a consumer used.
    A company sees accesses it is a party of; the complex's staff see any company's."""
    if not principal.is_operator and principal.company_id != company_id:
        raise NotFound(f"company {company_id} not found")
    where = (Usage.provider_company_id == company_id) | (Usage.consumer_company_id == company_id)
    total = session.scalar(select(func.count()).select_from(Usage).where(where)) or 0
    rows = session.scalars(
        select(Usage)
        .where(where)
        .order_by(Usage.at.desc(), Usage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
