"""HTTP routes for a company of this complex to use offers of a partner complex (hub and
spoke): browse its catalogue, negotiate and countersign, and pull under the agreement. The
protocol work is `dsp_client.py`; the partner must be in `SANDAN_DSP_PARTNERS`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from sandan.core.http import DbSession, RegistryRead, SharingWrite, get_context
from sandan.sharing import dsp_client, signing

router = APIRouter(prefix="/api/v1/sharing/remote", tags=["sharing"])
ConnectorUrl = Annotated[str, Field(min_length=8, max_length=300, pattern=r"^https?://")]


class ConnectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connector_url: ConnectorUrl


class RemoteNegotiationIn(ConnectorIn):
    """Ask a partner complex for one of its offers (the dataset @id or its number)."""

    offer_id: str = Field(
        pattern=r"^(urn:sandan:offer:)?\d{1,18}$", examples=["urn:sandan:offer:7"]
    )
    purpose: str = Field(min_length=2, max_length=40)


class RemoteTransferIn(ConnectorIn):
    agreement_id: str = Field(min_length=1, max_length=64, description="the agreement's uid")


class RemotePullIn(RemoteTransferIn):
    start: datetime
    end: datetime
    purpose: str = Field(min_length=2, max_length=40)
    resolution: int | None = Field(default=None, ge=0, le=86_400)
    fields: list[str] | None = Field(default=None, min_length=1, max_length=50)


class RemoteNegotiationOut(BaseModel):
    connector_url: str
    negotiation_id: str  # the provider's process id
    state: str
    offer: str | None
    agreement_id: str | None
    agreement: dict[str, Any] | None
    provider_signature: dict[str, Any] | None
    provider_public_key: str | None
    consumer_signature: dict[str, Any] | None
    consumer_public_key: str | None = None


class EdrOut(BaseModel):
    """Where to pull under a partner's agreement, with which short-lived bearer token."""

    agreement_id: str
    endpoint: str
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_endpoint: str


@contextmanager
def _client(request: Request, session: Session, url: str) -> Iterator[dsp_client.DspClient]:
    settings = get_context(request).settings
    secret = settings.resolved_secret_key()
    with dsp_client.connect(session, settings.dsp_partners, secret, url) as client:
        yield client


@router.get("/catalog")
def catalog(
    request: Request,
    principal: RegistryRead,
    session: DbSession,
    connector_url: Annotated[str, Query(min_length=8, max_length=300)],
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """A partner complex's catalogue (DCAT JSON-LD): the offers it opens to partners."""
    with _client(request, session, connector_url) as client:
        found = client.catalog(q)
    return Response(signing.canonical_json(found), media_type="application/ld+json")


@router.post("/negotiations", response_model=RemoteNegotiationOut, status_code=201)
def negotiate(
    request: Request, principal: SharingWrite, session: DbSession, body: RemoteNegotiationIn
) -> dict[str, Any]:
    """Ask a partner complex for an offer; with its automatic approval the agreement is
    checked, countersigned with your company's key and finalized at once."""
    who = dsp_client.consumer(session, principal)
    secret = get_context(request).settings.resolved_secret_key()
    with _client(request, session, body.connector_url) as client:
        return dsp_client.negotiate(
            session,
            principal,
            client,
            who,
            offer=body.offer_id,
            purpose=body.purpose,
            secret=secret,
        )


@router.post("/negotiations/{negotiation_id}/finalize", response_model=RemoteNegotiationOut)
def finalize(
    negotiation_id: Annotated[str, Path(max_length=18, pattern=r"^\d+$")],
    request: Request,
    principal: SharingWrite,
    session: DbSession,
    body: ConnectorIn,
) -> dict[str, Any]:
    """Check a negotiation with a partner; once its provider agreed, countersign it."""
    who = dsp_client.consumer(session, principal)
    secret = get_context(request).settings.resolved_secret_key()
    with _client(request, session, body.connector_url) as client:
        return dsp_client.finalize(session, principal, client, who, negotiation_id, secret)


@router.post("/transfers", response_model=EdrOut)
def transfer(
    request: Request, principal: SharingWrite, session: DbSession, body: RemoteTransferIn
) -> dict[str, Any]:
    """The endpoint and a short-lived bearer token to pull from the partner directly."""
    who = dsp_client.consumer(session, principal)
    with _client(request, session, body.connector_url) as client:
        return asdict(dsp_client.transfer(client, who, body.agreement_id))


@router.post("/pull")
def pull(
    request: Request, principal: SharingWrite, session: DbSession, body: RemotePullIn
) -> Response:
    """Pull rows under a partner's agreement through this complex's connector; the
    provider's refusal comes back with its reasons."""
    who = dsp_client.consumer(session, principal)
    window = dsp_client.Window(
        body.start,
        body.end,
        body.purpose,
        body.resolution,
        tuple(body.fields) if body.fields else None,
    )
    with _client(request, session, body.connector_url) as client:
        edr = dsp_client.transfer(client, who, body.agreement_id)
        rows = dsp_client.pull(client, edr, window)
    return Response(signing.canonical_json(rows), media_type="application/json")
