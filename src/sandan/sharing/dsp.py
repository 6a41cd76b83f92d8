"""The provider's Dataspace Protocol endpoints under /dsp, for partner connectors of other
complexes (hub and spoke); the rules are in `service/remote.py`.

Every request must carry the calling connector's signature (`service/partners.py`): an
unsigned request, one from a connector that is not in `SANDAN_DSP_PARTNERS`, or one whose
signature does not prove it gets 401 with the one JSON error body. Every answer is signed
with this platform's key over the request's signature, so the caller knows who answered
what. Only `GET /dsp/connector` is public: it tells an operator the key to register.

The messages follow DSP 2024-1 (`dspace:` terms); Sandan's own fields are `sandan:` terms:
the consumer's participant id and purpose in a ContractRequestMessage, the Ed25519
signatures and public keys of the agreement in the negotiation and the verification.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.db import PRINCIPAL_KEY
from sandan.core.errors import NotFound
from sandan.core.http import DbSession, get_context
from sandan.core.types import IdPath
from sandan.sharing import signing
from sandan.sharing.service import parties, partners, remote
from sandan.sharing.service.negotiations import Keys

router = APIRouter(prefix="/dsp", tags=["dsp"])


# --- messages ------------------------------------------------------------------------------


class _Message(BaseModel):
    """A DSP message in compact JSON-LD; its `@context` and other terms are let through."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class CatalogRequest(_Message):
    filter: dict[str, Any] = Field(default_factory=dict, alias="dspace:filter")


class OfferRef(_Message):
    id: str = Field(alias="@id", min_length=1, max_length=80)


class ContractRequest(_Message):
    """The consumer asks for an offer as it stands, for a purpose."""

    consumer_pid: str = Field(alias="dspace:consumerPid", min_length=1, max_length=80)
    offer: OfferRef = Field(alias="dspace:offer")
    callback_address: str = Field(default="", alias="dspace:callbackAddress", max_length=300)
    consumer: str = Field(alias="sandan:consumer", min_length=3, max_length=200)
    purpose: str = Field(alias="sandan:purpose", min_length=2, max_length=40)


class Verification(_Message):
    """The consumer's countersignature of the agreement, with the key to check it by."""

    consumer_pid: str = Field(default="", alias="dspace:consumerPid", max_length=80)
    signature: signing.Signature = Field(alias="sandan:signature")
    public_key: str = Field(alias="sandan:publicKey", min_length=9, max_length=80)


class Termination(_Message):
    consumer_pid: str = Field(default="", alias="dspace:consumerPid", max_length=80)
    code: str = Field(default="", alias="dspace:code", max_length=80)
    reason: str = Field(default="", alias="sandan:note", max_length=400)


class TransferRequest(_Message):
    consumer_pid: str = Field(alias="dspace:consumerPid", min_length=1, max_length=80)
    agreement_id: str = Field(alias="dspace:agreementId", min_length=1, max_length=64)
    format: Literal["HttpData-PULL"] = Field(default="HttpData-PULL", alias="dct:format")
    consumer: str = Field(alias="sandan:consumer", min_length=3, max_length=200)


# --- authentication and signed answers -----------------------------------------------------


async def _connector(request: Request, session: DbSession) -> partners.Signed:
    """The partner connector whose signature the request carries; 401 otherwise."""
    settings = get_context(request).settings
    signed = partners.check(
        partners.parse_partners(settings.dsp_partners),
        request.headers.get(partners.SIGNATURE_HEADER),
        request.method,
        request.url.path,
        await request.body(),
        now=utcnow(),
    )
    session.info[PRINCIPAL_KEY] = remote.connector_principal(signed.partner)
    return signed


Connector = Annotated[partners.Signed, Depends(_connector)]


def _keys(request: Request) -> Keys:
    settings = get_context(request).settings
    return Keys(settings.resolved_secret_key(), settings.sharing_fee_rate)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _answer(
    request: Request,
    session: Session,
    caller: partners.Signed,
    payload: dict[str, Any],
    status: int = 200,
) -> Response:
    """The payload as canonical JSON, signed with this platform's key over the request."""
    _, key = parties.signing_key(session, None, _keys(request).secret)
    body = signing.canonical_json(payload)
    stamp = partners.stamp(
        key,
        partners.RESPONSE,
        request.url.path,
        body,
        at=utcnow(),
        reply_to=caller.signature,
        status=status,
    )
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={partners.SIGNATURE_HEADER: stamp.header},
    )


# --- routes --------------------------------------------------------------------------------


@router.get("/connector")
def connector(request: Request, session: DbSession) -> dict[str, str]:
    """This connector's address and platform public key, for partners to register."""
    row, _ = parties.signing_key(session, None, _keys(request).secret)
    return {
        "@type": "sandan:Connector",
        "dspace:endpointURL": f"{_base(request)}/dsp",
        "sandan:keyId": row.key_id,
        "sandan:publicKey": row.public_key,
        "sandan:partnerEntry": f"{_base(request)}={row.public_key}",
    }


@router.post("/catalog/request")
def catalog_request(
    request: Request, caller: Connector, session: DbSession, body: CatalogRequest
) -> Response:
    """CatalogRequestMessage: the offers partner connectors may see, as a dcat:Catalog."""
    q = body.filter.get("q")
    found = remote.catalog(session, _base(request), q if isinstance(q, str) else None)
    return _answer(request, session, caller, found)


@router.get("/catalog/datasets/{offer_id}")
def catalog_dataset(
    offer_id: Annotated[str, Path(max_length=80)],
    request: Request,
    caller: Connector,
    session: DbSession,
) -> Response:
    """One dataset of the catalogue, by offer id or `urn:sandan:offer:<id>`."""
    return _answer(request, session, caller, remote.dataset(session, offer_id, _base(request)))


@router.post("/negotiations/request", status_code=201)
def negotiation_request(
    request: Request, caller: Connector, session: DbSession, body: ContractRequest
) -> Response:
    """ContractRequestMessage: start a negotiation; automatic approval answers AGREED with
    the provider's signed agreement."""
    n = remote.start(
        session,
        caller.partner,
        consumer=body.consumer,
        consumer_pid=body.consumer_pid,
        offer_ref=body.offer.id,
        purpose=body.purpose,
        keys=_keys(request),
    )
    return _answer(request, session, caller, remote.negotiation_message(session, n), 201)


@router.get("/negotiations/{negotiation_id}")
def negotiation(
    negotiation_id: IdPath, request: Request, caller: Connector, session: DbSession
) -> Response:
    """A negotiation this connector started: its state, and the agreement once signed."""
    n = remote.negotiation_of(session, caller.partner, negotiation_id)
    return _answer(request, session, caller, remote.negotiation_message(session, n))


@router.post("/negotiations/{negotiation_id}/agreement/verification")
def agreement_verification(
    negotiation_id: IdPath,
    request: Request,
    caller: Connector,
    session: DbSession,
    body: Verification,
) -> Response:
    """ContractAgreementVerificationMessage: the consumer's countersignature; finalizes."""
    n = remote.verify(
        session, caller.partner, negotiation_id, body.signature, body.public_key, _keys(request)
    )
    return _answer(request, session, caller, remote.negotiation_message(session, n))


@router.post("/negotiations/{negotiation_id}/termination")
def termination(
    negotiation_id: IdPath,
    request: Request,
    caller: Connector,
    session: DbSession,
    body: Termination,
) -> Response:
    """ContractNegotiationTerminationMessage from the consumer."""
    note = " ".join(p for p in (body.code, body.reason) if p)
    n = remote.terminate(session, caller.partner, negotiation_id, note)
    return _answer(request, session, caller, remote.negotiation_message(session, n))


@router.post("/transfers/request", status_code=201)
def transfer_request(
    request: Request, caller: Connector, session: DbSession, body: TransferRequest
) -> Response:
    """TransferRequestMessage (pull): answered STARTED with the Endpoint Data Reference."""
    agreement, issued = remote.transfer(
        session, caller.partner, consumer=body.consumer, agreement_uid=body.agreement_id
    )
    message = remote.transfer_message(_base(request), body.consumer_pid, agreement, issued)
    return _answer(request, session, caller, message, 201)


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
def unknown_dsp_route(rest: str, request: Request) -> None:
    """Unknown DSP paths answer in JSON, not with the web pages' HTML 404."""
    raise NotFound(f"no DSP route {request.method} /dsp/{rest}")
