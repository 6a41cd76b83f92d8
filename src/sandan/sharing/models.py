"""Relational tables of data sharing: offers, negotiations, agreements, access tokens, the
usage meter, the KRW ledger, privacy budgets and the companies' signing keys.

A party is a local company (`*_company_id`) or, across complexes, a remote participant known
by its Dataspace Protocol participant id and connector address (`*_participant`,
`counterparty_url`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class SigningKey(Audited, Base):
    """A company's Ed25519 key pair, held by the hosted connector so that small companies
    need not run one; the private key is PKCS8, encrypted with the platform's secret."""

    __tablename__ = "sharing_signing_keys"
    __audit_exclude__: ClassVar[frozenset[str]] = frozenset({"private_pem"})

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), unique=True
    )  # None: the platform's own key (signs DSP messages between complexes)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[str] = mapped_column(String(80))
    private_pem: Mapped[bytes]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Offer(Audited, Base):
    """A data offer in the catalogue: a selection of telemetry, a derived product or a file,
    with who may see it (access policy) and the terms (contract policy) and price."""

    __tablename__ = "sharing_offers"
    __table_args__ = (Index("ix_sharing_offers_company_status", "company_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # telemetry | product | file
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry: Mapped[str] = mapped_column(String(6), default="")  # the provider's KSIC code
    temporal_start: Mapped[datetime | None]
    temporal_end: Mapped[datetime | None]
    # telemetry: {"tag_ids": [...], "resolution": 3600, "live": true}; product: {"product":
    # "daily_oee", "line_id": 7}; file: {"format": "csv", "size": 1234, "sha256": "..."}
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    preview: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    access_policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    contract_policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    price_model: Mapped[str] = mapped_column(String(16), default="free")
    price_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    approval: Mapped[str] = mapped_column(String(8), default="auto")  # auto | manual
    status: Mapped[str] = mapped_column(String(10), default="published")  # | withdrawn
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfferFile(Base):
    """The bytes of an uploaded file offer (CSV or Parquet), kept out of the offer row."""

    __tablename__ = "sharing_offer_files"

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_offers.id", ondelete="CASCADE"), primary_key=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes]


class Negotiation(Audited, Base):
    """A contract negotiation after the Dataspace Protocol; `policy` is the latest proposal."""

    __tablename__ = "sharing_negotiations"
    __audit_company__ = "provider_company_id"
    __table_args__ = (
        Index("ix_sharing_negotiations_provider", "provider_company_id", "state"),
        Index("ix_sharing_negotiations_consumer", "consumer_company_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("sharing_offers.id", ondelete="CASCADE"))
    provider_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    consumer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    provider_participant: Mapped[str] = mapped_column(String(200))
    consumer_participant: Mapped[str] = mapped_column(String(200))
    counterparty_url: Mapped[str] = mapped_column(String(300), default="")  # remote: its DSP
    remote_id: Mapped[str] = mapped_column(String(80), default="")  # its process id there
    remote_offer_id: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(40))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NegotiationMessage(Base):
    """One step of a negotiation's timeline: who sent what, with which proposal."""

    __tablename__ = "sharing_negotiation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_negotiations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(8))  # consumer | provider
    message: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))  # the state it led to
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Agreement(Audited, Base):
    """A signed contract agreement: the document both parties signed and its live counters,
    which the data plane checks and bumps under a row lock at each access."""

    __tablename__ = "sharing_agreements"
    __audit_company__ = "provider_company_id"
    __table_args__ = (
        Index("ix_sharing_agreements_provider", "provider_company_id"),
        Index("ix_sharing_agreements_consumer", "consumer_company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    negotiation_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_negotiations.id", ondelete="CASCADE"), unique=True
    )
    offer_id: Mapped[int] = mapped_column(ForeignKey("sharing_offers.id", ondelete="CASCADE"))
    provider_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    consumer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    provider_participant: Mapped[str] = mapped_column(String(200))
    consumer_participant: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(40))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)  # what was signed
    digest: Mapped[str] = mapped_column(String(64))
    provider_signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    consumer_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    price_model: Mapped[str] = mapped_column(String(16), default="free")
    price_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default="agreed")  # | active | terminated
    signed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    termination_reason: Mapped[str] = mapped_column(String(300), default="")
    pulls: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class AccessToken(Base):
    """A short-lived bearer token for one agreement (the Endpoint Data Reference), and the
    longer-lived refresh token that renews it; only their hashes are kept."""

    __tablename__ = "sharing_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_agreements.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Usage(Audited, Base):
    """The meter: every access under an agreement, allowed or denied, with what it moved;
    each row is also an entry of the provider's hash-chained audit trail."""

    __tablename__ = "sharing_usage"
    __audit_company__ = "provider_company_id"
    __table_args__ = (
        Index("ix_sharing_usage_agreement_at", "agreement_id", "at"),
        Index("ix_sharing_usage_provider_at", "provider_company_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_agreements.id", ondelete="CASCADE")
    )
    provider_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    consumer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(8))  # pull | stream | file
    allowed: Mapped[bool]
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTransaction(Audited, Base):
    """One balanced posting: its entries' debits equal their credits, in whole won."""

    __tablename__ = "sharing_ledger_transactions"
    __table_args__ = (UniqueConstraint("agreement_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("sharing_agreements.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))  # one_off | monthly | per_1000_rows
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM the charge belongs to
    memo: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(Audited, Base):
    """A line of a transaction on one account: `company:<id>` or `platform:fees`."""

    __tablename__ = "sharing_ledger_entries"
    __table_args__ = (
        CheckConstraint("debit_krw >= 0 AND credit_krw >= 0", name="ledger_amounts_positive"),
        Index("ix_sharing_ledger_entries_company", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_ledger_transactions.id", ondelete="CASCADE"), index=True
    )
    account: Mapped[str] = mapped_column(String(40))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    debit_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_krw: Mapped[int] = mapped_column(BigInteger, default=0)


class PrivacyBudget(Base):
    """The differential-privacy epsilon spent on one published statistic."""

    __tablename__ = "sharing_privacy_budgets"

    statistic: Mapped[str] = mapped_column(String(120), primary_key=True)
    epsilon_total: Mapped[float] = mapped_column(Float)
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
