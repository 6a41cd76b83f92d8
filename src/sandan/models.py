"""Every domain's tables, imported in one place so Alembic and tests see the whole schema."""

from sandan.analytics.models import DowntimeEvent
from sandan.core.audit.models import AuditEntry, AuditHead
from sandan.core.db import Base
from sandan.core.identity.models import Credential, User, WebSession
from sandan.registry.models import (
    Asset,
    Company,
    Complex,
    Contact,
    Device,
    ImportRun,
    Site,
    Tag,
    Zone,
)
from sandan.sharing.models import (
    AccessToken,
    Agreement,
    LedgerEntry,
    LedgerTransaction,
    Negotiation,
    NegotiationMessage,
    Offer,
    OfferFile,
    PrivacyBudget,
    SigningKey,
    Usage,
)
from sandan.telemetry.models import DeadLetter

__all__ = [
    "AccessToken",
    "Agreement",
    "Asset",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Company",
    "Complex",
    "Contact",
    "Credential",
    "DeadLetter",
    "Device",
    "DowntimeEvent",
    "ImportRun",
    "LedgerEntry",
    "LedgerTransaction",
    "Negotiation",
    "NegotiationMessage",
    "Offer",
    "OfferFile",
    "PrivacyBudget",
    "SigningKey",
    "Site",
    "Tag",
    "Usage",
    "User",
    "WebSession",
    "Zone",
]
