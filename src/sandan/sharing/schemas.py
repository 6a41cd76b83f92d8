"""Request and response shapes of data sharing; field rules live here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandan.core.types import DbId as Id
from sandan.sharing.policy import Policy

OfferKind = Literal["telemetry", "product", "file"]
PriceModel = Literal["free", "one_off", "monthly", "per_1000_rows"]
Product = Literal["line_hourly", "daily_oee", "energy_profile", "quality_stats"]
RESOLUTIONS = (0, 60, 3600, 86400)


class TelemetrySelection(BaseModel):
    """Tags of the provider's own machines, at a resolution, historical and/or live."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["telemetry"] = "telemetry"
    tag_ids: list[Id] = Field(min_length=1, max_length=500)
    resolution: Literal[0, 60, 3600] = 3600
    live: bool = False


class ProductSelection(BaseModel):
    """A derived data product of one line or of the whole company."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["product"] = "product"
    product: Product
    line_id: Id | None = None
    live: bool = False  # also stream the line's machine readings as they come


class FileSelection(BaseModel):
    """An uploaded CSV or Parquet file: the offer waits as a draft until its file arrives
    (`POST /offers/{id}/file`), which fills in format, rows, bytes and checksum."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["file"] = "file"


Selection = TelemetrySelection | ProductSelection | FileSelection


class OfferIn(BaseModel):
    """A new offer; the provider is the caller's company (operators name one)."""

    model_config = ConfigDict(extra="forbid")
    company_id: Id | None = None
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=4000)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    temporal_start: datetime | None = None
    temporal_end: datetime | None = None
    selection: Selection = Field(discriminator="type")
    access_policy: Policy | None = None  # None: every company of the complex may see it
    contract_policy: Policy
    price_model: PriceModel = "free"
    price_krw: int = Field(default=0, ge=0, le=10_000_000_000)
    approval: Literal["auto", "manual"] = "auto"
    preview: bool = True  # show a few sample rows in the catalogue (never more than offered)

    @model_validator(mode="after")
    def _price_and_window(self) -> OfferIn:
        if (self.price_model == "free") != (self.price_krw == 0):
            raise ValueError("price_krw must be 0 exactly when price_model is 'free'")
        if self.temporal_start and self.temporal_end and self.temporal_end <= self.temporal_start:
            raise ValueError("temporal_end must be after temporal_start")
        return self


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    company_id: int
    provider: str = ""
    kind: str
    title: str
    description: str
    keywords: list[str]
    industry: str
    temporal_start: datetime | None
    temporal_end: datetime | None
    selection: dict[str, Any]
    data_schema: list[dict[str, Any]]
    preview: list[dict[str, Any]]
    contract_policy: dict[str, Any]
    price_model: str
    price_krw: int
    approval: str
    status: str
    created_at: datetime


class OfferPage(BaseModel):
    items: list[OfferOut]
    total: int


class NegotiationRequest(BaseModel):
    """A consumer asks for an offer for a purpose, with the offer's terms or its own."""

    model_config = ConfigDict(extra="forbid")
    offer_id: Id
    purpose: str = Field(min_length=2, max_length=40)
    policy: Policy | None = None  # None: the offer's contract policy as it stands


class Proposal(BaseModel):
    """A counter-offer (provider) or counter-request (consumer)."""

    model_config = ConfigDict(extra="forbid")
    policy: Policy
    note: str = Field(default="", max_length=500)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sender: str
    message: str
    state: str
    policy: dict[str, Any] | None
    note: str
    actor: str
    at: datetime


class NegotiationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    offer_id: int
    provider_company_id: int | None
    consumer_company_id: int | None
    provider_participant: str
    consumer_participant: str
    state: str
    purpose: str
    policy: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    agreement_id: int | None = None
    messages: list[MessageOut] = Field(default_factory=list)
    allowed: list[str] = Field(default_factory=list)  # messages the caller may send now


class AgreementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    uid: str
    offer_id: int
    negotiation_id: int
    provider_company_id: int | None
    consumer_company_id: int | None
    provider_participant: str
    consumer_participant: str
    purpose: str
    policy: dict[str, Any]
    digest: str
    provider_signature: dict[str, Any]
    consumer_signature: dict[str, Any] | None
    price_model: str
    price_krw: int
    status: str
    signed_at: datetime
    expires_at: datetime | None
    terminated_at: datetime | None
    termination_reason: str
    pulls: int
    rows: int
    bytes: int


class VerificationOut(BaseModel):
    agreement_id: int
    digest: str
    provider_signature_valid: bool
    consumer_signature_valid: bool


class TokenOut(BaseModel):
    """The Endpoint Data Reference: where to pull and with which short-lived token."""

    agreement_id: int
    endpoint: str
    stream_endpoint: str | None
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=20, max_length=200)


class UsageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agreement_id: int
    provider_company_id: int | None
    consumer_company_id: int | None
    kind: str
    allowed: bool
    reasons: list[dict[str, str]]
    rows: int
    bytes: int
    actor: str
    at: datetime


class UsagePage(BaseModel):
    items: list[UsageOut]
    total: int
