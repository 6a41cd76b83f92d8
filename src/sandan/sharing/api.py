"""HTTP routes of data sharing: the catalogue, negotiation, agreements, governed access,
usage, statements and settlement."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from sandan.analytics.shifts import ShiftPlan
from sandan.core.errors import NotAuthenticated, NotFound, ValidationFailed
from sandan.core.http import DbSession, RegistryRead, SharingWrite, get_context
from sandan.core.identity.principal import Principal
from sandan.core.types import IdPath
from sandan.sharing import policy as odrl
from sandan.sharing import signing
from sandan.sharing.errors import AccessDenied
from sandan.sharing.models import Agreement, Negotiation
from sandan.sharing.schemas import (
    AgreementOut,
    NegotiationOut,
    NegotiationRequest,
    Note,
    OfferIn,
    OfferOut,
    OfferPage,
    Proposal,
    RefreshIn,
    TokenOut,
    UsagePage,
    VerificationOut,
)
from sandan.sharing.service import (
    access,
    benchmarks,
    data,
    files,
    ledger,
    negotiations,
    offers,
    publishing,
    statements,
)
from sandan.sharing.service.negotiations import Keys
from sandan.sharing.service.parties import public_key
from sandan.telemetry.deps import Hub, Store
from sandan.telemetry.live import stream_readings

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
Purpose = Annotated[str, Query(min_length=2, max_length=40, description="a code of /purposes")]
Bearer = Annotated[str | None, Header(alias="authorization")]


def _keys(request: Request) -> Keys:
    settings = get_context(request).settings
    return Keys(settings.resolved_secret_key(), settings.sharing_fee_rate)


def _offer_out(session: Session, items: list[Any]) -> list[OfferOut]:
    names = offers.providers(session, items)
    return [
        OfferOut.model_validate(o).model_copy(update={"provider": names.get(o.company_id, "")})
        for o in items
    ]


# --- catalogue ---------------------------------------------------------------------------------


@router.get("/purposes")
def purposes(principal: RegistryRead) -> list[dict[str, str]]:
    """The purposes a policy and a request may name."""
    return [{"code": k, "en": v.en, "ko": v.ko} for k, v in odrl.PURPOSES.items()]


@router.get("/offers", response_model=OfferPage)
def list_offers(
    principal: RegistryRead,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: Literal["telemetry", "product", "file"] | None = None,
    industry: Annotated[str | None, Query(max_length=6)] = None,
    keyword: Annotated[str | None, Query(max_length=60)] = None,
    company_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Search the catalogue: offers whose access policy lets your company see them."""
    f = offers.CatalogueFilter(q, kind, industry, keyword, company_id)
    items = offers.visible_offers(session, principal, f)
    return {"items": _offer_out(session, items), "total": len(items)}


@router.get("/catalog")
def catalog(
    request: Request,
    principal: RegistryRead,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The catalogue as DCAT JSON-LD, each dataset carrying its ODRL offer."""
    base = str(request.base_url).rstrip("/")
    body = offers.dcat_catalog(session, principal, offers.CatalogueFilter(q=q), base)
    return Response(signing.canonical_json(body), media_type="application/ld+json")


@router.post("/offers", response_model=OfferOut, status_code=201)
def create_offer(
    request: Request, principal: SharingWrite, session: DbSession, store: Store, body: OfferIn
) -> OfferOut:
    """Publish an offer of your company's data, with a preview of a few rows; a file offer
    stays a draft until its file is uploaded to `/offers/{id}/file`."""
    source = files.source(get_context(request).settings, store)
    return _offer_out(session, [publishing.publish(session, principal, body, source)])[0]


@router.get("/offers/{offer_id}", response_model=OfferOut)
def get_offer(offer_id: IdPath, principal: RegistryRead, session: DbSession) -> OfferOut:
    """One offer you may see."""
    return _offer_out(session, [offers.get_offer(session, principal, offer_id)])[0]


@router.post("/offers/{offer_id}/withdraw", response_model=OfferOut)
def withdraw_offer(offer_id: IdPath, principal: SharingWrite, session: DbSession) -> OfferOut:
    """Take your offer out of the catalogue; agreements already signed keep running."""
    return _offer_out(session, [offers.withdraw_offer(session, principal, offer_id)])[0]


# --- negotiation -------------------------------------------------------------------------------


def _negotiation_out(session: Session, principal: Principal, n: Negotiation) -> NegotiationOut:
    agreement = negotiations.agreement_of(session, n.id)
    out = NegotiationOut.model_validate(n)
    return out.model_copy(
        update={
            "agreement_id": agreement.id if agreement else None,
            "messages": negotiations.messages(session, n.id),
            "allowed": negotiations.allowed_for(principal, n),
        }
    )


@router.post("/negotiations", response_model=NegotiationOut, status_code=201)
def request_offer(
    request: Request, principal: SharingWrite, session: DbSession, body: NegotiationRequest
) -> NegotiationOut:
    """Ask for an offer for a purpose (a DSP ContractRequest)."""
    n = negotiations.start(session, principal, body, _keys(request))
    return _negotiation_out(session, principal, n)


@router.get("/negotiations", response_model=list[NegotiationOut])
def inbox(
    principal: RegistryRead, session: DbSession, state: Annotated[str | None, Query()] = None
) -> list[NegotiationOut]:
    """Your negotiations, as provider and as consumer, newest first."""
    rows = negotiations.list_negotiations(session, principal, state)
    return [_negotiation_out(session, principal, n) for n in rows]


@router.get("/negotiations/{negotiation_id}", response_model=NegotiationOut)
def get_negotiation(
    negotiation_id: IdPath, principal: RegistryRead, session: DbSession
) -> NegotiationOut:
    """One negotiation with its timeline and the messages you may send now."""
    n = negotiations.get_negotiation(session, principal, negotiation_id)
    return _negotiation_out(session, principal, n)


@router.post("/negotiations/{negotiation_id}/counter", response_model=NegotiationOut)
def counter(
    negotiation_id: IdPath, principal: SharingWrite, session: DbSession, body: Proposal
) -> NegotiationOut:
    """A counter-offer (provider) or counter-request (consumer) with new terms."""
    n = negotiations.counter(session, principal, negotiation_id, body)
    return _negotiation_out(session, principal, n)


@router.post("/negotiations/{negotiation_id}/accept", response_model=NegotiationOut)
def accept(
    negotiation_id: IdPath,
    request: Request,
    principal: SharingWrite,
    session: DbSession,
    body: Note | None = None,
) -> NegotiationOut:
    """Accept the other side's last terms; the provider's acceptance signs the agreement."""
    note = body.note if body else ""
    n = negotiations.accept(session, principal, negotiation_id, _keys(request), note)
    return _negotiation_out(session, principal, n)


@router.post("/negotiations/{negotiation_id}/terminate", response_model=NegotiationOut)
def terminate_negotiation(
    negotiation_id: IdPath, principal: SharingWrite, session: DbSession, body: Note | None = None
) -> NegotiationOut:
    """End a negotiation that is not over."""
    n = negotiations.terminate(session, principal, negotiation_id, body.note if body else "")
    return _negotiation_out(session, principal, n)


# --- agreements --------------------------------------------------------------------------------


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(
    principal: RegistryRead,
    session: DbSession,
    role: Literal["provider", "consumer"] | None = None,
) -> list[Agreement]:
    """Your agreements, with their usage so far."""
    return access.list_agreements(session, principal, role)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(agreement_id: IdPath, principal: RegistryRead, session: DbSession) -> Agreement:
    """One agreement: the signed document's digest, both signatures, status and usage."""
    return access.get_agreement(session, principal, agreement_id)


@router.get("/agreements/{agreement_id}/verify", response_model=VerificationOut)
def verify_agreement(
    agreement_id: IdPath, principal: RegistryRead, session: DbSession
) -> dict[str, Any]:
    """Check both Ed25519 signatures of the agreement against the signed document."""
    a = access.get_agreement(session, principal, agreement_id)

    def valid(sig: dict[str, Any] | None) -> bool:
        if not sig:
            return False
        key = public_key(session, str(sig.get("key_id", "")))
        parsed = signing.Signature.model_validate(sig)
        return key is not None and signing.verify(a.document, parsed, key)

    return {
        "agreement_id": a.id,
        "digest": signing.digest(a.document),
        "provider_signature_valid": valid(a.provider_signature),
        "consumer_signature_valid": valid(a.consumer_signature),
    }


@router.get("/agreements/{agreement_id}/document")
def agreement_document(
    agreement_id: IdPath, principal: RegistryRead, session: DbSession
) -> Response:
    """The signed agreement document (ODRL JSON-LD), byte for byte as signed."""
    a = access.get_agreement(session, principal, agreement_id)
    return Response(signing.canonical_json(a.document), media_type="application/ld+json")


@router.post("/agreements/{agreement_id}/terminate", response_model=AgreementOut)
def terminate_agreement(
    agreement_id: IdPath, principal: SharingWrite, session: DbSession, body: Note | None = None
) -> Agreement:
    """End an agreement: its tokens stop at once, its live streams within seconds."""
    return access.terminate_agreement(session, principal, agreement_id, body.note if body else "")


def _token_out(request: Request, issued: access.Issued) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + f"/api/v1/sharing/agreements/{issued.agreement_id}"
    return {
        "agreement_id": issued.agreement_id,
        "endpoint": f"{base}/data",
        "stream_endpoint": f"{base}/stream" if issued.live else None,
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
    }


@router.post("/agreements/{agreement_id}/token", response_model=TokenOut)
def token(
    agreement_id: IdPath, request: Request, principal: SharingWrite, session: DbSession
) -> dict[str, Any]:
    """The consumer's endpoint and short-lived bearer token for pulling data."""
    return _token_out(request, access.issue_token(session, principal, agreement_id))


@router.post("/token/refresh", response_model=TokenOut)
def refresh(request: Request, session: DbSession, body: RefreshIn) -> dict[str, Any]:
    """Trade a refresh token for a new token pair (the old pair stops working)."""
    return _token_out(request, access.refresh_token(session, body.refresh_token))


def _bearer_agreement(session: Session, authorization: str | None, agreement_id: int) -> Agreement:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotAuthenticated("send the agreement's access token as 'Authorization: Bearer …'")
    agreement = access.agreement_for_token(session, authorization[7:].strip())
    if agreement.id != agreement_id:
        raise NotFound(f"agreement {agreement_id} not found")
    return agreement


def _consumer_actor(agreement: Agreement) -> str:
    return f"agreement:{agreement.uid}/consumer:{agreement.consumer_participant}"


def _fields(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    names = frozenset(f.strip() for f in text.split(",") if f.strip())
    if not names:
        raise ValidationFailed.one("fields", "name at least one field, or leave it out")
    return names


@router.get("/agreements/{agreement_id}/data")
def pull(
    agreement_id: IdPath,
    request: Request,
    session: DbSession,
    store: Store,
    purpose: Purpose,
    start: datetime | None = None,
    end: datetime | None = None,
    authorization: Bearer = None,
    resolution: Annotated[int | None, Query(ge=0, le=86_400)] = None,
    fields: Annotated[str | None, Query(max_length=500)] = None,
    format: Literal["json", "csv", "parquet"] = "json",
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Pull data under an agreement with its bearer token. The agreed policy is evaluated
    now; a refusal is 403 with the readable reasons, and is metered and audited like a pull.
    Telemetry and products need `start` and `end`; a file offer takes them as an optional
    window on its time column, pages with `limit`/`offset`, and downloads as CSV or Parquet."""
    agreement = _bearer_agreement(session, authorization, agreement_id)
    req = data.Request(start, end, resolution, _fields(fields), limit, offset)
    settings = get_context(request).settings
    actor = _consumer_actor(agreement)
    outcome = access.pull(
        session,
        store,
        agreement_id,
        actor,
        req,
        purpose,
        settings.plant_timezone,
        fmt=format,
        files_dir=files.files_dir(settings.data_dir),
    )
    if not outcome.allowed:
        session.commit()  # the edge keeps the metered refusal, then answers 403
        raise AccessDenied(outcome.message, outcome.reasons)
    if outcome.payload is not None:
        return _download(agreement, outcome.payload, format)
    if format == "csv":
        return Response(_csv(outcome.rows), media_type="text/csv; charset=utf-8")
    body = {
        "agreement": agreement.uid,
        "rows": outcome.rows,
        "count": len(outcome.rows),
        "truncated": outcome.truncated,
        "duties": outcome.duties,
    }
    if outcome.next_offset is not None:
        body["next_offset"] = outcome.next_offset
    return Response(signing.canonical_json(body), media_type="application/json")


def _download(agreement: Agreement, payload: bytes, format: str) -> Response:
    media = "application/vnd.apache.parquet" if format == "parquet" else "text/csv; charset=utf-8"
    name = f"sandan-agreement-{agreement.id}.{format}"
    return Response(
        payload,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


@router.get(
    "/agreements/{agreement_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream(
    agreement_id: IdPath,
    request: Request,
    session: DbSession,
    store: Store,
    hub: Hub,
    purpose: Purpose,
    authorization: Bearer = None,
    seconds: Annotated[float, Query(ge=1, le=86_400)] = 3600,
) -> StreamingResponse:
    """Live readings of a telemetry offer under an agreement (Server-Sent Events). The
    agreement is checked and the stream metered every few seconds; termination, expiry or a
    spent limit ends it with an `end` frame saying why."""
    agreement = _bearer_agreement(session, authorization, agreement_id)
    tags = access.stream_tags(session, agreement)
    reason = access.stream_check(session, agreement.id, "stream-open", 0, 0, purpose)
    if reason:
        raise AccessDenied(reason, [{"code": "policy", "message": reason}])
    db = get_context(request).db
    actor = _consumer_actor(agreement)

    def check(rows: int, nbytes: int) -> tuple[list[int], str]:
        with db.unit() as s:
            why = access.stream_check(s, agreement_id, actor, rows, nbytes, purpose)
        return ([], why) if why else (tags, "")

    frames = stream_readings(store, hub, check, seconds=seconds, recheck_s=STREAM_RECHECK_S)
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


STREAM_RECHECK_S = 2.0  # an expired or terminated agreement stops its stream within this


# --- usage, statements, settlement -------------------------------------------------------------


@router.get("/companies/{company_id}/usage", response_model=UsagePage)
def usage(
    company_id: IdPath,
    principal: RegistryRead,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Who used your data (or what you used), when, under which agreement, allowed or not."""
    rows, total = access.usage(session, principal, company_id, limit=limit, offset=offset)
    return {"items": rows, "total": total}


@router.get("/companies/{company_id}/balance")
def balance(company_id: IdPath, principal: RegistryRead, session: DbSession) -> dict[str, int]:
    """Your ledger totals in KRW: debits, credits and net."""
    return ledger.balances(session, principal, company_id)


@router.get("/companies/{company_id}/statements/{period}")
def statement(
    company_id: IdPath,
    period: Annotated[str, Path(pattern=r"^\d{4}-\d{2}(\.csv)?$")],
    principal: RegistryRead,
    session: DbSession,
) -> Response:
    """Your monthly statement (YYYY-MM as JSON, YYYY-MM.csv as a spreadsheet)."""
    month = period.removesuffix(".csv")
    found = statements.statement(session, principal, company_id, month)
    if period.endswith(".csv"):
        name = f"sandan-statement-{company_id}-{month}.csv"
        return Response(
            statements.statement_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(orjson.dumps(asdict(found)), media_type="application/json")


@router.post("/settlements/{period}")
def settle(
    period: str, request: Request, principal: SharingWrite, session: DbSession
) -> dict[str, Any]:
    """Settle a month (operators): monthly subscriptions and per-1,000-row usage become
    balanced ledger postings; settling a month again posts nothing new."""
    fee = get_context(request).settings.sharing_fee_rate
    return asdict(ledger.settle_month(session, principal, period, fee_rate=fee))


# --- private complex benchmarks ----------------------------------------------------------------

Days = Annotated[date | None, Query(description="UTC day; default: the last 7 whole days")]


def _benchmark_setup(request: Request) -> tuple[ShiftPlan, benchmarks.Policy]:
    settings = get_context(request).settings
    plan = ShiftPlan.parse(settings.shifts, settings.plant_timezone)
    return plan, benchmarks.Policy.of(settings)


@router.get("/benchmarks", response_model=list[benchmarks.Group])
def list_benchmarks(
    request: Request,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    metric: benchmarks.Metric = "oee",
    by: benchmarks.Grouping = "industry",
    start: Days = None,
    end: Days = None,
) -> list[benchmarks.Group]:
    """Complex benchmarks by industry (KSIC division) or zone over whole UTC days: each group's
    mean, median and quartiles, or why it is withheld (fewer than k companies, one company
    dominating, the privacy budget spent). No company's own value is ever shown."""
    plan, policy = _benchmark_setup(request)
    window = benchmarks.Window.of(start, end)
    return benchmarks.benchmarks(session, principal, store, plan, metric, by, window, policy)


@router.get("/benchmarks/position", response_model=benchmarks.Position)
def benchmark_position(
    request: Request,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    metric: benchmarks.Metric = "oee",
    start: Days = None,
    end: Days = None,
    company_id: Annotated[int | None, Query(ge=1)] = None,
) -> benchmarks.Position:
    """Your company's percentile in its industry and zone. Operators and auditors, who act for
    the complex, name the company with `company_id`."""
    plan, policy = _benchmark_setup(request)
    window = benchmarks.Window.of(start, end)
    return benchmarks.position(
        session, principal, store, plan, metric, window, policy, company_id=company_id
    )
